"""Thin views for SIP, consent and care requests: the list, a new SIP, the SIP page, the person's consents,
a new care request and the care request page, with one POST action per step. Each view opens the object
through the checked path, parses the form, calls one service and redirects; a DomainError re-renders the page
with the Swedish messages next to the fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from brygga.access.models import AccessLogEntry
from brygga.access.services import log_access, log_list_access, lookup_person, open_person
from brygga.accounts.context import Actor, AuthedRequest
from brygga.accounts.decorators import actor_required, run_action
from brygga.accounts.permissions import Perm
from brygga.cases import services as case_services
from brygga.cases.models import Case, Participant
from brygga.cases.services import unit_cases
from brygga.consent import services as consent_services
from brygga.consent.models import Consent, DisclosureAssessment
from brygga.core.errors import DomainError, NotFound
from brygga.core.inputs import form_date, form_datetime
from brygga.messaging import services as messaging
from brygga.messaging import views as message_views
from brygga.messaging.models import Thread
from brygga.organisations import directory
from brygga.organisations.models import Unit
from brygga.people.models import Person
from brygga.people.presenters import display_identifier, display_name, person_summary
from brygga.sip import pdf, rules, selectors, services, signing
from brygga.sip.models import CareRequest, Event, FollowUp, Sip, SipOffer, SipParticipant


def _errors(exc: DomainError) -> dict[str, Any]:
    return {"errors": exc.problems, "field_errors": {p.field: p.message for p in exc.problems}}


# --- the list -----------------------------------------------------------------------------------------------


@require_GET
@actor_required(Perm.PERSON_READ)
def index(request: AuthedRequest) -> HttpResponse:
    actor: Actor = request.actor
    assert actor.unit is not None
    now = timezone.now()
    items = selectors.inbox_items(actor.unit, now)
    show_closed = request.GET.get("visa") == "alla"
    sips = selectors.sips_for_unit(actor.unit, include_closed=show_closed)
    requests = selectors.care_requests_for_unit(actor.unit, include_closed=show_closed)
    persons = {i.person.pk: i.person for i in items}
    persons.update({s.person.pk: s.person for s in sips})
    persons.update({r.person.pk: r.person for r in requests})
    log_list_access(actor, persons.values(), f"sip-lista:{actor.unit.pk}")
    return render(
        request,
        "sip/index.html",
        {
            "items": [(i, display_name(i.person), display_identifier(i.person)) for i in items],
            "sips": [(s, display_name(s.person), display_identifier(s.person)) for s in sips],
            "requests": [(r, display_name(r.person), display_identifier(r.person)) for r in requests],
            "show_closed": show_closed,
            "now": now,
        },
    )


def _person_from_request(actor: Actor, source: Any) -> Person:
    """A person from ?person= (an involved person) or an identity number (a logged look-up)."""
    person_id = (source.get("person") or "").strip()
    if person_id:
        return open_person(actor, person_id, what="sip")
    identifier = (source.get("identifier") or "").strip()
    if not identifier:
        raise DomainError.single("identifier", "PERSON", _("Ange personnummer."))
    try:
        # A logged look-up (flagged for review when the unit is not involved); the service decides.
        return lookup_person(actor, identifier)
    except NotFound as exc:
        raise DomainError.single(
            "identifier", "PERSON", _("Ingen person med det numret finns registrerad.")
        ) from exc


@actor_required(Perm.SIP_MANAGE)
def new_sip(request: AuthedRequest) -> HttpResponse:
    actor: Actor = request.actor
    data = request.POST if request.method == "POST" else request.GET
    context: dict[str, Any] = {"form": data, "can_lookup": actor.can(Perm.PERSON_LOOKUP)}
    if data.get("person"):
        try:
            context["person"] = person_summary(open_person(actor, data["person"], what="sip/ny"))
        except NotFound as exc:
            raise Http404 from exc
    if request.method != "POST":
        return render(request, "sip/new.html", context)
    try:
        person = _person_from_request(actor, request.POST)
        case = None
        if request.POST.get("case", "").isdecimal():
            case = selectors.case_of_person(person, request.POST["case"])
            if case is None:
                raise DomainError.single("case", "OKANT-ARENDE", _("Ärendet gäller inte personen."))
        sip = services.start_sip(
            actor, person, need_description=request.POST.get("need_description", ""), case=case
        )
    except (DomainError, NotFound) as exc:
        if isinstance(exc, NotFound):
            exc = DomainError.single(
                "identifier", "PERSON", _("Personen finns inte bland din enhets personer.")
            )
        context.update(_errors(exc))
        return render(request, "sip/new.html", context, status=400)
    messages.success(request, _("SIP:en är påbörjad. Förbered mötet och lägg till deltagare."))
    return redirect("sip:detail", sip_id=sip.pk)


# --- the SIP page -------------------------------------------------------------------------------------------


def _linked_threads(actor: Actor, sip: Sip) -> list[Thread] | None:
    """The linked discharge case's message threads (read-only here), if the active unit takes part in that
    case; None if it does not."""
    if sip.case_id is None:
        return None

    try:
        case = case_services.open_case(actor, sip.case_id, what=f"sip:{sip.pk}")
    except NotFound:
        return None
    return messaging.thread_list(messaging.subject_for(case), actor.unit)


def _detail_context(request: AuthedRequest, sip: Sip) -> dict[str, Any]:
    actor: Actor = request.actor
    assert actor.unit is not None
    participants = list(sip.participants.select_related("unit__organisation__principal"))
    units = [p.unit for p in participants if p.unit is not None]
    draft = sip.draft()
    current = sip.current_version()
    versions = list(
        sip.versions.select_related("overall_responsible_unit", "established_by")
        .prefetch_related("efforts__responsible_unit")
        .order_by("-number")
    )
    editing = draft or current
    efforts = list(editing.efforts.select_related("responsible_unit")) if editing else []
    case = sip.case
    return {
        "sip": sip,
        "summary": person_summary(sip.person),
        "participation": services.participation(actor, sip),
        "participants": participants,
        "units": units,
        "steps": Sip.Status.choices,
        "step_index": [s for s, _label in Sip.Status.choices].index(sip.status),
        "draft": draft,
        "current": current,
        "plan_signatures": signing.plan_signatures(sip) if current else None,
        "versions": versions,
        "efforts": efforts,
        "effort_rows": efforts + [None] * max(0, 4 - len(efforts)),
        "problems": services.plan_problems(sip, draft) if draft else [],
        "follow_ups": sip.follow_ups.select_related("responsible_unit", "done_by"),
        "events": Event.objects.filter(sip=sip)
        .select_related("user", "unit")
        .order_by("-occurred_at", "-id"),
        "overview": consent_services.disclosure_overview(
            sip.person, actor.unit, [u for u in units if u.pk != actor.unit.pk], ["sip", "health", "social"]
        ),
        "participant_kinds": SipParticipant.Kind.choices,
        "unit_choices": directory.units_except_kinds(
            {Unit.Kind.ADMINISTRATION}, exclude={u.pk for u in units}
        ),
        "close_reasons": rules.CLOSE_REASONS,
        "case": case,
        "case_deadline": (case.sip_summons_due_at, case.sip_summons_sent_at) if case else None,
        "case_threads": _linked_threads(actor, sip),
        **message_views.context(actor, sip, "sip:action", sip.pk),
        "care_requests": sip.care_requests.select_related("to_unit"),
        "today": timezone.localdate(),
        "form": {},
        "errors": [],
        "action": "",
    }


@require_GET
@actor_required(Perm.PERSON_READ)
def detail(request: AuthedRequest, sip_id: int) -> HttpResponse:
    sip = services.open_sip(request.actor, sip_id)
    return render(request, "sip/detail.html", _detail_context(request, sip))


@require_GET
@actor_required(Perm.PERSON_READ)
def plan_pdf(request: AuthedRequest, sip_id: int) -> HttpResponse:
    actor: Actor = request.actor
    sip = services.open_sip(actor, sip_id, what="pdf")
    number = request.GET.get("version", "")
    version = (
        sip.versions.filter(number=int(number)).exclude(status="draft").first()
        if number.isdecimal()
        else sip.current_version()
    )
    if version is None:
        raise Http404
    log_access(
        actor,
        sip.person,
        AccessLogEntry.Action.EXPORT,
        f"{sip.source}/pdf/{version.number}",
        had_involvement=True,
    )
    response = HttpResponse(pdf.render_plan(sip, version), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="sip-{sip.pk}-version-{version.number}.pdf"'
    return response


@require_POST
@actor_required(Perm.DOCUMENT_SIGN)
def sign_plan(request: AuthedRequest, sip_id: int) -> HttpResponse:
    """Freeze the established plan as a document and go to it, where it is signed (documents app)."""
    actor: Actor = request.actor
    try:
        version = signing.plan_document(actor, sip_id)
    except DomainError as exc:
        sip = services.open_sip(actor, sip_id)
        context = {**_detail_context(request, sip), **_errors(exc), "action": "sign-plan"}
        return render(request, "sip/detail.html", context, status=400)
    return redirect("documents:document", document_id=version.document_id)


Handler = Callable[[Actor, Sip, Any], str]


def _add_participant(actor: Actor, sip: Sip, post: Any) -> str:
    services.add_participant(
        actor,
        sip,
        kind=post.get("kind", ""),
        unit=post.get("unit") or None,
        name=post.get("name", ""),
        role_text=post.get("role_text", ""),
    )
    return _("Deltagaren är tillagd.")


def _remove_participant(actor: Actor, sip: Sip, post: Any) -> str:
    participant = SipParticipant.objects.filter(sip=sip, pk=post.get("participant") or 0).first()
    if participant is None:
        raise NotFound
    services.remove_participant(actor, sip, participant)
    return _("Deltagaren är borttagen.")


def _summon(actor: Actor, sip: Sip, post: Any) -> str:
    services.summon(
        actor,
        sip,
        meeting_at=form_datetime(post.get("meeting_at", ""), "meeting_at", required=True),
        location=post.get("location", ""),
    )
    return _("Kallelsen till SIP-mötet är skickad.")


def _meeting(actor: Actor, sip: Sip, post: Any) -> str:
    services.record_meeting(
        actor, sip, held_at=form_datetime(post.get("held_at", ""), "held_at"), note=post.get("note", "")
    )
    return _("Mötet är registrerat. Skriv planen.")


def _draft(actor: Actor, sip: Sip, post: Any) -> str:
    efforts = []
    for index in range(int(post.get("effort_rows", "4") or 4)):
        efforts.append(
            {
                "need": post.get(f"efforts.{index}.need", ""),
                "effort": post.get(f"efforts.{index}.effort", ""),
                "responsible_unit": post.get(f"efforts.{index}.responsible_unit", ""),
                "performer_other": post.get(f"efforts.{index}.performer_other", ""),
            }
        )
    services.save_draft(
        actor,
        sip,
        what_matters=post.get("what_matters", ""),
        needs=post.get("needs", ""),
        other_efforts=post.get("other_efforts", ""),
        overall_responsible_unit=post.get("overall_responsible_unit") or None,
        efforts=efforts,
        change_reason=post.get("change_reason", ""),
    )
    return _("Utkastet är sparat.")


def _establish(actor: Actor, sip: Sip, post: Any) -> str:
    services.establish(
        actor,
        sip,
        follow_up_on=form_date(post.get("follow_up_on", ""), "follow_up_on"),
        follow_up_description=post.get("follow_up_description", ""),
        follow_up_unit=post.get("follow_up_unit") or None,
    )
    return _("Planen är fastställd.")


def _follow_up(actor: Actor, sip: Sip, post: Any) -> str:
    services.add_follow_up(
        actor,
        sip,
        due_on=form_date(post.get("due_on", ""), "due_on", required=True),
        description=post.get("description", ""),
        responsible_unit=post.get("responsible_unit") or None,
    )
    return _("Uppföljningen är planerad.")


def _follow_up_done(actor: Actor, sip: Sip, post: Any) -> str:
    follow_up = FollowUp.objects.filter(sip=sip, pk=post.get("follow_up") or 0).first()
    if follow_up is None:
        raise NotFound
    services.complete_follow_up(actor, follow_up, outcome=post.get("outcome", ""))
    return _("Uppföljningen är gjord.")


def _revise(actor: Actor, sip: Sip, post: Any) -> str:
    services.start_revision(actor, sip)
    return _("En ny version av planen är påbörjad.")


def _close(actor: Actor, sip: Sip, post: Any) -> str:
    services.close_sip(actor, sip, reason=post.get("reason", ""), text=post.get("text", ""))
    return _("SIP:en är avslutad.")


def _acknowledge(actor: Actor, sip: Sip, post: Any) -> str:
    services.acknowledge_sip(actor, sip)
    return _("Kvitterat.")


ACTIONS: dict[str, Handler] = {
    "add-participant": _add_participant,
    "remove-participant": _remove_participant,
    "summon": _summon,
    "meeting": _meeting,
    "draft": _draft,
    "establish": _establish,
    "follow-up": _follow_up,
    "follow-up-done": _follow_up_done,
    "revise": _revise,
    "close": _close,
    "acknowledge": _acknowledge,
}


@require_POST
@actor_required(Perm.PERSON_READ)
def action(request: AuthedRequest, sip_id: int, name: str) -> HttpResponse:
    actor: Actor = request.actor
    return run_action(
        request,
        name,
        handlers=ACTIONS,
        message_handlers=message_views.handlers(),
        open_object=lambda what: services.open_sip(actor, sip_id, what=what),
        context=lambda sip: _detail_context(request, sip),
        template="sip/detail.html",
        success_url=lambda sip: reverse("sip:detail", args=[sip.pk]) + f"#{name}",
    )


# --- consent ------------------------------------------------------------------------------------------------


def _consents_context(request: AuthedRequest, person: Person) -> dict[str, Any]:
    actor: Actor = request.actor
    return {
        "person": person,
        "summary": person_summary(person),
        "consents": consent_services.consents_for(person),
        "assessments": DisclosureAssessment.objects.filter(person=person)
        .select_related("physician", "unit")
        .prefetch_related("parties"),
        "offers": SipOffer.objects.filter(person=person).select_related("unit", "offered_by", "case"),
        "cases": selectors.unit_cases_of_person(person, actor.unit),
        "categories": rules.PROTECTED_CATEGORIES,
        "forms": rules.CONSENT_FORMS,
        "given_by": Consent.GivenBy.choices,
        "answers": SipOffer.Answer.choices,
        "unit_choices": directory.units_except_kinds({Unit.Kind.ADMINISTRATION}),
        "can_assess": actor.can(Perm.DISCLOSURE_ASSESS),
        "can_record": actor.can(Perm.CONSENT_RECORD),
        "can_offer": actor.can(Perm.SIP_MANAGE),
        "today": timezone.localdate(),
        **_consent_prefill(request, actor, person),
        "errors": [],
        "action": "",
    }


def _case_of(actor: Actor, person: Person, case_id: str) -> Case | None:
    """A case of ``person`` that the active unit takes part in, or None."""
    if not case_id.isdecimal():
        return None
    return unit_cases(actor.unit).filter(pk=int(case_id), person=person).first()


def _consent_prefill(request: HttpRequest, actor: Actor, person: Person) -> dict[str, Any]:
    """``?arende=<id>`` (the link from a discharge case, R-SEK-3: the ward records the consent and passes it
    on): the consent form starts with that case's receiving units and its purpose, and returns to the case
    once recorded. Only a case of this person that the active unit takes part in is used; anything else
    starts an empty form."""
    data = request.GET if request.method == "GET" else request.POST
    case = _case_of(actor, person, data.get("arende", ""))
    if request.method == "POST":  # a refused form shows what was chosen, and still returns to the case
        posted = {int(v) for v in request.POST.getlist("parties") if v.isdecimal()}
        return {"form": {}, "prefill_parties": posted, "from_case": case.pk if case else None}
    if case is None:
        return {"form": {}, "prefill_parties": set(), "from_case": None}
    receivers = case.participants.filter(status=Participant.Status.ACTIVE).exclude(role=Participant.Role.WARD)
    return {
        "form": {"purpose": _("Samordnad utskrivning från slutenvården (ärende %(n)s)") % {"n": case.pk}},
        "prefill_parties": set(receivers.values_list("unit_id", flat=True)),
        "from_case": case.pk,
    }


def _record_consent(actor: Actor, person: Person, post: Any) -> str:
    consent_services.record_consent(
        actor,
        person,
        given_by=post.get("given_by", ""),
        form=post.get("consent_form", ""),
        purpose=post.get("purpose", ""),
        parties=post.getlist("parties"),
        categories=post.getlist("categories"),
        excluded_parties=post.getlist("excluded_parties"),
        excluded_categories=post.getlist("excluded_categories"),
        exclusions_note=post.get("exclusions_note", ""),
        representative_name=post.get("representative_name", ""),
        representative_relation=post.get("representative_relation", ""),
        given_at=form_datetime(post.get("given_at", ""), "given_at"),
        valid_until=form_date(post.get("valid_until", ""), "valid_until"),
    )
    return _("Samtycket är registrerat.")


def _withdraw_consent(actor: Actor, person: Person, post: Any) -> str:
    consent = consent_services.consent_by_id(post.get("consent"), person)
    if consent is None:
        raise NotFound
    consent_services.withdraw_consent(actor, consent, note=post.get("note", ""))
    return _("Samtycket är återkallat. Det används inte längre som grund för att lämna uppgifter.")


def _assessment(actor: Actor, person: Person, post: Any) -> str:
    valid_until = form_date(post.get("valid_until", ""), "valid_until", required=True)
    consent_services.record_assessment(
        actor,
        person,
        parties=post.getlist("parties"),
        categories=post.getlist("categories"),
        reasoning=post.get("reasoning", ""),
        valid_until=valid_until,
    )
    return _("Menprövningen är dokumenterad.")


def _offer(actor: Actor, person: Person, post: Any) -> str:
    case = None
    if post.get("case", "").isdecimal():
        case = selectors.case_of_person(person, post["case"])
    services.record_sip_offer(
        actor,
        person,
        answer=post.get("answer", ""),
        answered_by=post.get("answered_by", "person"),
        case=case,
        note=post.get("note", ""),
    )
    return _("Erbjudandet om SIP och svaret är registrerade.")


CONSENT_ACTIONS: dict[str, Callable[[Actor, Person, Any], str]] = {
    "consent": _record_consent,
    "withdraw": _withdraw_consent,
    "assessment": _assessment,
    "offer": _offer,
}


@actor_required(Perm.PERSON_READ)
def consents(request: AuthedRequest, person_id: int) -> HttpResponse:
    actor: Actor = request.actor
    person = open_person(actor, person_id, what="samtycken")
    if request.method == "POST":
        name = request.POST.get("action", "")
        handler = CONSENT_ACTIONS.get(name)
        if handler is None:
            raise Http404
        try:
            with transaction.atomic():  # one form, one transaction (the read above stays logged)
                message = handler(actor, person, request.POST)
        except DomainError as exc:
            context = _consents_context(request, person)
            context.update({"action": name, "form": request.POST, **_errors(exc)})
            return render(
                request, "sip/consents.html", context, status=exc.status if exc.status < 500 else 400
            )
        messages.success(request, message)
        case = _case_of(actor, person, request.POST.get("arende", "")) if name == "consent" else None
        if case is not None:  # came from the case (R-SEK-3): back to its messages
            return redirect(reverse("cases:detail", args=[case.pk]) + "#messages-title")
        return redirect(reverse("sip:consents", args=[person.pk]) + f"#{name}")
    return render(request, "sip/consents.html", _consents_context(request, person))


# --- care requests ------------------------------------------------------------------------------------------


def _care_request_form_context(actor: Actor) -> dict[str, Any]:
    return {
        "efforts": rules.CARE_REQUEST_EFFORTS,
        "medication": rules.MEDICATION_RESPONSIBILITY,
        "receivers": Unit.objects.filter(is_active=True, kind__in=services.MUNICIPAL_HEALTH_KINDS).order_by(
            "name"
        ),
        "can_lookup": actor.can(Perm.PERSON_LOOKUP),
    }


@actor_required(Perm.OUTPATIENT_MANAGE)
def new_care_request(request: AuthedRequest) -> HttpResponse:
    actor: Actor = request.actor
    data = request.POST if request.method == "POST" else request.GET
    context: dict[str, Any] = {"form": data, **_care_request_form_context(actor)}
    if data.get("person"):
        try:
            person = open_person(actor, data["person"], what="vårdbegäran/ny")
        except NotFound as exc:
            raise Http404 from exc
        context["person"] = person_summary(person)
        context["sips"] = selectors.unit_sips_of_person(person, actor.unit).exclude(status="closed")
    if request.method != "POST":
        return render(request, "sip/care_request_new.html", context)
    try:
        person = _person_from_request(actor, request.POST)
        sip = None
        if request.POST.get("sip", "").isdecimal():
            sip = selectors.sip_of_person(person, request.POST["sip"])
        care_request = services.send_care_request(
            actor,
            person,
            to_unit=request.POST.get("to_unit") or None,
            reason=request.POST.get("reason", ""),
            health_summary=request.POST.get("health_summary", ""),
            requested_efforts=request.POST.getlist("requested_efforts"),
            efforts_detail=request.POST.get("efforts_detail", ""),
            medication_responsibility=request.POST.get("medication_responsibility", ""),
            start_on=form_date(request.POST.get("start_on", ""), "start_on"),
            contact_name=request.POST.get("contact_name", ""),
            contact_phone=request.POST.get("contact_phone", ""),
            sip=sip,
        )
    except (DomainError, NotFound) as exc:
        if isinstance(exc, NotFound):
            exc = DomainError.single(
                "identifier", "PERSON", _("Personen finns inte bland din enhets personer.")
            )
        context.update(_errors(exc))
        return render(
            request, "sip/care_request_new.html", context, status=exc.status if exc.status < 500 else 400
        )
    messages.success(request, _("Vårdbegäran är skickad."))
    return redirect("sip:care_request", request_id=care_request.pk)


def _care_request_context(request: AuthedRequest, care_request: CareRequest) -> dict[str, Any]:
    actor: Actor = request.actor
    return {
        "cr": care_request,
        "summary": person_summary(care_request.person),
        "is_receiver": care_request.to_unit_id == (actor.unit.pk if actor.unit else None),
        "is_sender": care_request.from_unit_id == (actor.unit.pk if actor.unit else None),
        "efforts": [rules.CARE_REQUEST_EFFORTS.get(e, e) for e in care_request.requested_efforts],
        "bases": [
            (rules.CATEGORIES.get(category, category), basis)
            for category, basis in care_request.legal_basis.items()
        ],
        "medication": rules.MEDICATION_RESPONSIBILITY.get(care_request.medication_responsibility, ""),
        "decline_reasons": rules.DECLINE_REASONS,
        "decline_label": rules.DECLINE_REASONS.get(care_request.decline_reason, ""),
        "events": care_request.events.select_related("user", "unit").order_by("-occurred_at", "-id"),
        "sips": selectors.unit_sips_of_person(care_request.person, actor.unit).exclude(status="closed"),
        **message_views.context(actor, care_request, "sip:care_request_action", care_request.pk),
        "form": {},
        "errors": [],
        "action": "",
    }


@require_GET
@actor_required(Perm.PERSON_READ)
def care_request(request: AuthedRequest, request_id: int) -> HttpResponse:
    found = services.open_care_request(request.actor, request_id)
    return render(request, "sip/care_request.html", _care_request_context(request, found))


def _answer(actor: Actor, cr: CareRequest, post: Any) -> str:
    services.answer_care_request(
        actor, cr, answer=post.get("answer", ""), reason=post.get("reason", ""), text=post.get("text", "")
    )
    return _("Svaret är skickat.")


def _supplement(actor: Actor, cr: CareRequest, post: Any) -> str:
    services.supplement_care_request(actor, cr, text=post.get("text", ""))
    return _("Kompletteringen är skickad.")


def _withdraw(actor: Actor, cr: CareRequest, post: Any) -> str:
    services.withdraw_care_request(actor, cr, text=post.get("text", ""))
    return _("Vårdbegäran är återtagen.")


def _link(actor: Actor, cr: CareRequest, post: Any) -> str:
    sip = selectors.sip_of_person(cr.person, post.get("sip"))
    if sip is None:
        raise DomainError.single("sip", "OKAND-SIP", _("Välj en SIP."))
    services.link_care_request_to_sip(actor, cr, sip)
    return _("Vårdbegäran är kopplad till SIP:en.")


CARE_REQUEST_ACTIONS: dict[str, Callable[[Actor, CareRequest, Any], str]] = {
    "answer": _answer,
    "supplement": _supplement,
    "withdraw": _withdraw,
    "link-sip": _link,
}


@require_POST
@actor_required(Perm.PERSON_READ)
def care_request_action(request: AuthedRequest, request_id: int, name: str) -> HttpResponse:
    actor: Actor = request.actor
    return run_action(
        request,
        name,
        handlers=CARE_REQUEST_ACTIONS,
        message_handlers=message_views.handlers(),
        open_object=lambda what: services.open_care_request(actor, request_id, what=what),
        context=lambda found: _care_request_context(request, found),
        template="sip/care_request.html",
        success_url=lambda found: reverse("sip:care_request", args=[found.pk]) + f"#{name}",
    )
