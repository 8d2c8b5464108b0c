"""Thin views for the admission and discharge process: a new case, the case page, and one
POST action per step. Each view opens the case through the checked path, parses the form, calls one service
and redirects; a DomainError re-renders the page with the Swedish messages next to the fields."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from brygga.access.models import AccessLogEntry
from brygga.access.services import lookup_person
from brygga.accounts.context import Actor, AuthedRequest
from brygga.accounts.decorators import actor_required, run_action
from brygga.accounts.permissions import Perm
from brygga.cases import actions as case_actions
from brygga.cases import rules, selectors, services
from brygga.cases.models import Case, CaseEvent, Meeting, Participant, PlanningBasis
from brygga.core import statements
from brygga.core.errors import DomainError, NotFound, Problem
from brygga.core.inputs import form_date, form_datetime
from brygga.messaging import views as message_views
from brygga.organisations import directory
from brygga.organisations.models import Unit
from brygga.people.presenters import person_summary


@actor_required(Perm.CASE_CREATE)
def new_case(request: AuthedRequest) -> HttpResponse:
    actor: Actor = request.actor
    context: dict[str, Any] = {
        "form": request.POST,
        "care_types": Case.CareType.choices,
        # After a manual registration (web:person_new) the number comes along.
        "prefill_identifier": request.GET.get("identifier", "")[:20],
    }
    if request.method == "POST":
        try:
            person = lookup_person(actor, request.POST.get("identifier", ""))
        except NotFound:
            context["not_found"] = True
            context["errors"] = [
                Problem("identifier", "PERSON", _("Ingen person med det numret finns registrerad."))
            ]
            context["field_errors"] = {"identifier": context["errors"][0].message}
            return render(request, "cases/new.html", context, status=400)
        except DomainError as exc:
            context["errors"] = exc.problems
            context["field_errors"] = {p.field: p.message for p in exc.problems}
            return render(request, "cases/new.html", context, status=400)
        try:
            case = services.admit_with_notice(
                actor,
                person,
                admitted_at=form_datetime(request.POST.get("admitted_at", ""), "admitted_at", required=True),
                care_type=request.POST.get("care_type", ""),
                expected_discharge_date=form_date(
                    request.POST.get("expected_discharge_date", ""), "expected_discharge_date"
                ),
                need_assessed=request.POST.get("need_assessed") == "on",
                send_notice=request.POST.get("send_notice") == "on",
            )
        except DomainError as exc:
            context["errors"] = exc.problems
            context["field_errors"] = {p.field: p.message for p in exc.problems}
            return render(request, "cases/new.html", context, status=exc.status if exc.status < 500 else 400)
        messages.success(request, _("Ärendet är skapat."))
        return redirect("cases:detail", case_id=case.pk)
    return render(request, "cases/new.html", context)


def _receiving_units(case: Case) -> Any:
    """Units to offer for manual addressing: the registered municipality's and the listed vårdcentral."""
    wanted = Q(pk=case.person.listed_unit_id) if case.person.listed_unit_id else Q(pk__in=[])
    if case.municipality_id:
        wanted |= Q(municipality_id=case.municipality_id)
    return Unit.objects.filter(wanted, is_active=True, kind__in=list(services.RECEIVING_KINDS))


def _detail_context(request: AuthedRequest, case: Case) -> dict[str, Any]:
    actor: Actor = request.actor
    # The page's statements have the same text for every case: compiled once per process (ADR 0707).
    planning = services.planning_basis_of(case)
    # With the units' principals: the message form's recipients are decided from these rows (CaseSubject).
    participants = statements.reused(
        "case_page.participants",
        lambda case_id: (
            Participant.objects.filter(case_id=case_id)
            .select_related("unit__organisation__principal")
            .order_by("role", "unit__name")
        ),
        case_id=case.pk,
    )
    for p in participants:
        p.case = case  # as the related manager would: reading it asks nothing
    assert actor.unit is not None
    answers, needs, nursing, medications, consent = _planning_values(request, planning)
    # services.participant_for, from the rows just read (one participation per unit and case)
    participant = next(
        (
            p
            for p in participants
            if actor.unit is not None and p.unit_id == actor.unit.pk and p.status == Participant.Status.ACTIVE
        ),
        None,
    )
    extended: dict[str, Any] = {}
    for provide in _PAGE_CONTEXT:
        extended.update(provide(case, actor.unit, participants))
    # The case's events and meetings, read once for the history, the status line and the forms' choices.
    events = statements.reused(
        "case_page.events",
        lambda case_id: (
            CaseEvent.objects.filter(case_id=case_id)
            .select_related("user", "unit")
            .order_by("-occurred_at", "-id")
        ),
        case_id=case.pk,
    )
    oldest_first = events[::-1]  # CaseEvent's own ordering (occurred_at, id)
    meetings = statements.reused(
        "case_page.meetings",
        lambda case_id: (
            Meeting.objects.filter(case_id=case_id)
            .prefetch_related("participants")
            .select_related("video_room")
        ),
        case_id=case.pk,
    )
    for meeting in meetings:
        meeting.case = case
    allowed_now = case_actions.allowed(actor, case, participant)
    step = case_actions.next_step(
        case, participant, allowed_now, planning is not None, extended.get("my_plan") is not None
    )
    header = selectors.status_header(case, events=events, meetings=meetings)
    changes = header["expected_date_changes"]
    unknown = planning.unknown_count if planning else 0
    return {
        **extended,
        "allowed": allowed_now,
        "next_step": step,
        "case": case,
        "summary": person_summary(case.person),
        "participant": participant,
        "is_ward": participant is not None and participant.role == Participant.Role.WARD,
        "is_primary_care": participant is not None and participant.role == Participant.Role.PRIMARY_CARE,
        "is_receiver": participant is not None and participant.role != Participant.Role.WARD,
        "header": header,
        # The page's two plural texts (its body is a Jinja2 template, ADR 0705).
        "expected_date_changes_text": ngettext("ändrat %(n)s gång", "ändrat %(n)s gånger", changes)
        % {"n": changes},
        "unknown_count_text": ngettext("%(n)s svar ”vet ej”.", "%(n)s svar ”vet ej”.", unknown)
        % {"n": unknown},
        "can_view_payment": actor.can(Perm.PAYMENT_VIEW),
        "can_record_consent": actor.can(Perm.CONSENT_RECORD),
        "participants": participants,
        "active_units": [p.unit for p in participants if p.status == Participant.Status.ACTIVE],
        "events": events,
        "checklist": services.checklist_status(case, participants, planning),
        "planning": planning,
        "questions": [(k, v, answers.get(k, "")) for k, v in rules.PLANNING_QUESTIONS.items()],
        "needs": [(k, v, needs.get(k, {})) for k, v in rules.NEEDS.items()],
        "nursing": [(k, v, nursing.get(k, "")) for k, v in rules.NURSING_AREAS.items()],
        "planning_medications": medications,
        "planning_consent": consent,
        "limits": rules.TEXT_LIMITS,
        # The rules' labels are lazy translations: translated once here, not once per radio button and option.
        "answers": _translated(rules.ANSWERS),
        "meetings": meetings,
        "meeting_forms": Meeting.Form.choices,
        **message_views.context(
            actor, case, "cases:action", case.pk, subject=services.CaseSubject(case, participants)
        ),
        "rejection_reasons": _translated(rules.REJECTION_REASONS),
        "date_reasons": _translated(rules.EXPECTED_DATE_REASONS),
        "cancel_reasons": _translated(rules.CANCEL_REASONS),
        "correctable": [
            e for e in oldest_first if e.kind in (CaseEvent.Kind.ADMITTED, CaseEvent.Kind.DISCHARGED)
        ],
        "has_reserve_number": case.person.id_kind == "reservnummer",
        "notices": [
            e
            for e in oldest_first
            if e.kind in (CaseEvent.Kind.ADMISSION_NOTICE_SENT, CaseEvent.Kind.DISCHARGE_NOTICE_SENT)
        ],
        "receiving_units": _receiving_units(case),
        "unit_choices": unit_choices() if "notice" in allowed_now or "add-recipient" in allowed_now else [],
        "receiving_kinds": ",".join(services.RECEIVING_KINDS),
        # The transfer form's wards, from the cached directory and only when the form is offered.
        "wards": directory.units_of_kinds({Unit.Kind.WARD}, exclude={case.ward_id})
        if "transfer" in allowed_now
        else [],
        "form": {},
        "errors": [],
        "action": "",
    }


def _translated(labels: Mapping[str, Any]) -> dict[str, str]:
    return {key: str(label) for key, label in labels.items()}


def _planning_values(
    request: HttpRequest, planning: PlanningBasis | None
) -> tuple[dict[str, str], dict[str, dict[str, str]], dict[str, str], str, str]:
    """What the planning form shows: after a refused planning submission exactly what was typed (every radio
    and text), otherwise what is saved."""
    match = request.resolver_match
    if request.method == "POST" and match is not None and match.kwargs.get("name") == "planning":
        post = request.POST
        return (
            {k: post.get(f"answers.{k}", "") for k in rules.PLANNING_QUESTIONS},
            {
                k: {"answer": post.get(f"needs.{k}", ""), "text": post.get(f"needs_text.{k}", "")}
                for k in rules.NEEDS
            },
            {k: post.get(f"nursing.{k}", "") for k in rules.NURSING_AREAS},
            post.get("medications", ""),
            post.get("consent", ""),
        )
    if planning is None:
        return {}, {}, {}, "", ""
    return (
        dict(planning.answers),
        dict(planning.needs),
        dict(planning.nursing_status),
        planning.medications,
        planning.consent,
    )


@require_GET
@actor_required(Perm.CASE_READ)
def patient_summary(request: AuthedRequest, case_id: int) -> HttpResponse:
    """R-UTS-2: the written summary for the patient at discharge — the fast vårdkontakt, when the SIP is
    planned, and the plans after discharge. Printed from the browser; the read is logged once, as an export
    (issue 20 item 4: one logical read, one entry)."""
    actor: Actor = request.actor
    case = services.open_case(actor, case_id, what="sammanfattning", action=AccessLogEntry.Action.EXPORT)
    planning = PlanningBasis.objects.filter(case=case).first()
    return render(
        request,
        "cases/patient_summary.html",
        {
            "case": case,
            "summary": person_summary(case.person),
            "planning": planning,
            "needs": [
                (label, (planning.needs.get(k, {}) if planning else {})) for k, label in rules.NEEDS.items()
            ],
            "answers": rules.ANSWERS,
            "meeting": case.meetings.order_by("starts_at").last(),
        },
    )


@require_GET
@actor_required(Perm.CASE_READ)
def detail(request: AuthedRequest, case_id: int) -> HttpResponse:
    case = services.open_case(request.actor, case_id)
    return render(request, "cases/detail.html", _detail_context(request, case))


def _checked(request: HttpRequest, name: str) -> bool:
    return request.POST.get(name) == "on"


# One handler per step: parse the form, call the service, return a success message.
Handler = Callable[[Actor, Case, Any], str]


UNIT_CHOICE = re.compile(r"\(([^()]+)\)\s*$")


def _picked_unit(text: str) -> str:
    """The unit chosen in the searchable unit field: its option reads "Name — municipality, kind (HSA-id)",
    so the HSA-id in the brackets names it; typed text without one is looked up by exact name (the service
    refuses what names no active unit, OKAND-ENHET)."""
    text = text.strip()
    match = UNIT_CHOICE.search(text)
    if match:
        return match.group(1).strip()
    unit = Unit.objects.filter(name__iexact=text, is_active=True).first()
    return unit.hsa_id if unit else text


def unit_choices() -> list[directory.DirectoryUnit]:
    """Every active unit that can receive a notice: the unit picker's options (a select that the combobox
    searches; each option reads "name — municipality, kind (HSA-id)", Unit.picker_label), from the cached
    directory (ADR 0703)."""
    return directory.units_of_kinds(services.RECEIVING_KINDS)


def _notice(actor: Actor, case: Case, post: Any) -> str:
    picked = post.getlist("recipients_pick") + [post.get("recipients_hsa", "")]
    manual = post.getlist("recipients") + [_picked_unit(t) for t in picked if t.strip()]
    services.send_admission_notice(
        actor,
        case,
        recipients=manual or None,
        assessed_at=form_datetime(post.get("assessed_at", ""), "assessed_at"),
    )
    return _("Inskrivningsmeddelandet är skickat.")


def _add_recipient(actor: Actor, case: Case, post: Any) -> str:
    services.add_recipient(actor, case, _picked_unit(post.get("unit", "")))
    return _("Mottagaren är tillagd.")


def _reject(actor: Actor, case: Case, post: Any) -> str:
    services.reject_notice(actor, case, post.get("reason", ""), post.get("text", ""))
    return _("Meddelandet är avvisat. Avsändaren har fått besked.")


def _expected_date(actor: Actor, case: Case, post: Any) -> str:
    services.change_expected_date(
        actor,
        case,
        form_date(post.get("expected_discharge_date", ""), "expected_discharge_date"),
        post.get("reason", ""),
        post.get("comment", ""),
    )
    return _("Beräknat utskrivningsdatum är ändrat.")


def _discharge_ready(actor: Actor, case: Case, post: Any) -> str:
    services.set_discharge_ready(actor, case, form_datetime(post.get("at", ""), "discharge_ready_at"))
    return _("Patienten är markerad som utskrivningsklar.")


def _withdraw(actor: Actor, case: Case, post: Any) -> str:
    services.withdraw_discharge_ready(actor, case, post.get("reason", ""))
    return _("Utskrivningsklar är återtagen. Alla enheter har fått besked.")


def _coordinator(actor: Actor, case: Case, post: Any) -> str:
    services.appoint_coordinator(
        actor, case, post.get("coordinator_name", ""), post.get("coordinator_phone", "")
    )
    return _("Fast vårdkontakt är utsedd.")


def _planning(actor: Actor, case: Case, post: Any) -> str:
    services.save_planning_basis(
        actor,
        case,
        answers={k: post.get(f"answers.{k}", "") for k in rules.PLANNING_QUESTIONS},
        needs={k: post.get(f"needs.{k}", "") for k in rules.NEEDS},
        needs_text={k: post.get(f"needs_text.{k}", "") for k in rules.NEEDS},
        nursing_status={k: post.get(f"nursing.{k}", "") for k in rules.NURSING_AREAS},
        medications=post.get("medications", ""),
        consent=post.get("consent", ""),
    )
    return _("Planeringsunderlaget är sparat.")


def _checklist(actor: Actor, case: Case, post: Any) -> str:
    services.set_checklist_item(actor, case, post.get("item", ""), post.get("done", "1") == "1")
    return _("Checklistan är uppdaterad.")


def _meeting(actor: Actor, case: Case, post: Any) -> str:
    services.book_meeting(
        actor,
        case,
        form=post.get("form", ""),
        starts_at=form_datetime(post.get("starts_at", ""), "starts_at", required=True),
        participants=[int(u) for u in post.getlist("participants") if u.isdecimal()],
        location=post.get("location", ""),
        note=post.get("note", ""),
    )
    return _("Mötet är bokat.")


def _discharge_info(actor: Actor, case: Case, post: Any) -> str:
    services.send_discharge_info(actor, case, summary_given=_checked_post(post, "summary_given"))
    return _("Information vid utskrivning är skickad.")


def _checked_post(post: Any, name: str) -> bool:
    return post.get(name) == "on"


def _discharge(actor: Actor, case: Case, post: Any) -> str:
    services.discharge(
        actor,
        case,
        form_datetime(post.get("discharged_at", ""), "discharged_at"),
        post.get("destination", ""),
    )
    return _("Patienten är utskriven och utskrivningsmeddelandet skickat.")


def _close(actor: Actor, case: Case, post: Any) -> str:
    services.close_case(actor, case)
    return _("Ärendet är avslutat.")


def _transfer(actor: Actor, case: Case, post: Any) -> str:
    services.transfer(actor, case, post.get("to_ward", ""), form_datetime(post.get("at", ""), "at"))
    return _("Patienten är flyttad.")


def _leave_start(actor: Actor, case: Case, post: Any) -> str:
    services.start_leave(
        actor, case, expected_return=form_date(post.get("expected_return", ""), "expected_return")
    )
    return _("Permissionen är registrerad.")


def _leave_end(actor: Actor, case: Case, post: Any) -> str:
    services.end_leave(actor, case)
    return _("Patienten är tillbaka från permission.")


def _confirmed(post: Any) -> None:
    """Irreversible steps (death, cancellation, annulment) need the separate confirmation box ticked."""
    if post.get("confirm") != "on":
        raise DomainError.single(
            "confirm", "BEKRAFTA", _("Bekräfta att du vill göra detta. Det går inte att ångra.")
        )


def _death(actor: Actor, case: Case, post: Any) -> str:
    _confirmed(post)
    died_at = form_datetime(post.get("died_at", ""), "died_at", required=True)
    services.record_death(actor, case, died_at)
    return _("Dödsfallet är registrerat.")


def _cancel_notice(actor: Actor, case: Case, post: Any) -> str:
    _confirmed(post)
    services.cancel_notice(
        actor, case, post.get("target_event", ""), post.get("reason", ""), post.get("text", "")
    )
    return _("Meddelandet är annullerat.")


def _correct_notice(actor: Actor, case: Case, post: Any) -> str:
    new_time = form_datetime(post.get("new_time", ""), "new_time", required=True)
    services.correct_notice(actor, case, post.get("target_event", ""), new_time, post.get("reason", ""))
    return _("Uppgiften är rättad. Mottagarna har fått besked.")


def _replace_reserve(actor: Actor, case: Case, post: Any) -> str:
    try:
        person = lookup_person(actor, post.get("identifier", ""))
    except NotFound as exc:
        raise DomainError.single(
            "identifier", "RESERVNUMMER", _("Ingen person med det numret finns registrerad.")
        ) from exc
    services.replace_reserve_number(actor, case, person)
    return _("Reservnumret är ersatt med personnumret.")


def _cancel_case(actor: Actor, case: Case, post: Any) -> str:
    _confirmed(post)
    services.cancel_case(actor, case, post.get("reason", ""), post.get("text", ""))
    return _("Ärendet är makulerat.")


def _acknowledge(actor: Actor, case: Case, post: Any) -> str:
    services.acknowledge(actor, case)
    return _("Kvitterat.")


ACTIONS: dict[str, Handler] = {
    "notice": _notice,
    "add-recipient": _add_recipient,
    "reject": _reject,
    "expected-date": _expected_date,
    "discharge-ready": _discharge_ready,
    "withdraw-discharge-ready": _withdraw,
    "coordinator": _coordinator,
    "planning": _planning,
    "checklist": _checklist,
    "meeting": _meeting,
    "discharge-info": _discharge_info,
    "discharge": _discharge,
    "close": _close,
    "transfer": _transfer,
    "leave-start": _leave_start,
    "leave-end": _leave_end,
    "death": _death,
    "cancel-notice": _cancel_notice,
    "cancel-case": _cancel_case,
    "correct-notice": _correct_notice,
    "replace-reserve": _replace_reserve,
    "acknowledge": _acknowledge,
}

# The apps above cases extend the case page from their AppConfig.ready (ADR 0009): the receiving app adds the
# planning basis as the unit may read it, the receivers' plans and the case's SIP to the page, and the POST
# actions "receiver-plan" and "sip-summons". The cases app imports none of them.
PageContext = Callable[[Case, Unit, list[Participant]], dict[str, Any]]
_PAGE_CONTEXT: list[PageContext] = []


def extend_case_page(
    context: PageContext | None = None, actions: Mapping[str, Handler] | None = None
) -> None:
    """Add what ``context(case, unit, participants)`` answers to the case page, and POST action handlers."""
    if context is not None and context not in _PAGE_CONTEXT:
        _PAGE_CONTEXT.append(context)
    ACTIONS.update(actions or {})


@require_POST
@actor_required(Perm.CASE_READ)
def action(request: AuthedRequest, case_id: int, name: str) -> HttpResponse:
    actor: Actor = request.actor

    def success_url(case: Case) -> str:
        if name in ("close", "reject"):
            return reverse("cases:inbox")
        return reverse("cases:detail", args=[case.pk]) + f"#{name}"

    return run_action(
        request,
        name,
        handlers=ACTIONS,
        message_handlers=message_views.handlers(),
        open_object=lambda what: services.open_case(actor, case_id, what=what),
        context=lambda case: _detail_context(request, case),
        template="cases/detail.html",
        success_url=success_url,
    )
