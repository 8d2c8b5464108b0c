"""Governance pages: cases from need to decision, forums, meetings, managed objects and plans, the decision
log, and the public roadmap (no login). Views look up, call a service and redirect; rules live in services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from brygga.accounts.context import Actor, AuthedRequest
from brygga.accounts.decorators import actor_required, run_action
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError, NotFound
from brygga.core.paging import html_page
from brygga.governance import communication, services
from brygga.governance.communication import atom_feed
from brygga.governance.communication import unsubscribe as do_unsubscribe
from brygga.governance.models import (
    AgendaItem,
    CaseState,
    ConsultationResponse,
    Decision,
    Forum,
    ForumMember,
    GoalCategory,
    GoalStatus,
    GovernanceCase,
    ManagedObject,
    ManagementPlan,
    MandateArea,
    Meeting,
    ServiceNotice,
    Side,
)
from brygga.governance.report import quarterly_report as build
from brygga.governance.report import report_pdf
from brygga.governance.services import MinuteDecision
from brygga.organisations.models import Organisation, Subregion

CASE_ACTIONS: dict[str, object] = {
    CaseState.INVENTORY: gettext_lazy("Till behovsinventering"),
    CaseState.PREPARATION: gettext_lazy("Starta beredning"),
    CaseState.IMPLEMENTATION: gettext_lazy("Starta genomförande"),
    CaseState.DONE: gettext_lazy("Markera genomfört"),
    CaseState.PARKED: gettext_lazy("Parkera"),
    CaseState.REJECTED: gettext_lazy("Avslå"),
}


# --- Public roadmap -------------------------------------------------------------------------------


@require_GET
def roadmap(request: HttpRequest) -> HttpResponse:
    """Public: no login. Shows what is decided, under way, done, rejected and parked, with reasons."""
    return render(request, "governance/roadmap.html", {"roadmap": services.public_roadmap()})


# --- Cases ----------------------------------------------------------------------------------------


@require_GET
@actor_required(Perm.GOVERNANCE_VIEW)
def case_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("status", "")
    cases = GovernanceCase.objects.select_related("addressee", "origin_subregion")
    if state in CaseState.values:
        cases = cases.filter(state=state)
    return render(
        request,
        "governance/case_list.html",
        {
            "cases": html_page(request, cases.order_by("-priority", "created_at", "pk")),
            "states": CaseState.choices,
            "state": state,
        },
    )


@actor_required(Perm.GOVERNANCE_RAISE)
def case_new(request: AuthedRequest) -> HttpResponse:
    actor = request.actor
    context: dict[str, object] = {
        "kinds": GovernanceCase.Kind.choices,
        "objects": ManagedObject.objects.exclude(status=ManagedObject.Status.CLOSED),
        "source_reference": request.GET.get("fran", "")[:120],
        "can_speak_for_subregion": actor.can(Perm.GOVERNANCE_DECIDE),
        "form": request.POST,
    }
    if request.method == "POST":
        obj_id = request.POST.get("managed_object", "")
        try:
            case = services.raise_case(
                actor,
                request.POST.get("kind", ""),
                request.POST.get("title", ""),
                request.POST.get("description", ""),
                on_behalf_of=request.POST.get("origin", GovernanceCase.Origin.USER),
                managed_object=ManagedObject.objects.filter(pk=obj_id).first()
                if obj_id.isdecimal()
                else None,
                source_reference=request.POST.get("source_reference", ""),
            )
        except DomainError as exc:
            return render(
                request, "governance/case_new.html", {**context, "errors": exc.problems}, status=400
            )
        messages.success(request, _("Ärendet %s är registrerat.") % case.number)
        return redirect("governance:case", number=case.number)
    return render(request, "governance/case_new.html", context)


def _case_context(request: AuthedRequest, case: GovernanceCase) -> dict[str, object]:
    actor = request.actor
    consultation = case.consultations.prefetch_related("responses").first()
    own_subregion = actor.unit.municipality.subregion if actor.unit else None
    return {
        "case": case,
        "events": case.events.select_related("by"),
        "endorsements": case.endorsements.select_related("subregion"),
        "decisions": case.decisions.select_related("forum", "meeting"),
        "consultation": consultation,
        "summary": services.summarise(consultation) if consultation else None,
        "moves": [
            (s, CASE_ACTIONS[s])
            for s in sorted(services.MANAGED_MOVES.get(case.state, set()))
            if s != CaseState.ASSIGNED
        ],
        "can_assign": CaseState.ASSIGNED in services.MANAGED_MOVES.get(case.state, set()),
        "forums": Forum.objects.filter(kind=Forum.Kind.DECISION),
        "areas": [(a, label) for a, label in MandateArea.choices if a != MandateArea.PREPARATION],
        "outcomes": Decision.Outcome.choices,
        "answers": ConsultationResponse.Answer.choices,
        "own_subregion": own_subregion,
        "is_open": case.state in services.OPEN_STATES,
        "default_deadline": timezone.localdate() + dt.timedelta(weeks=services.consultation_weeks()),
    }


def _get_case(number: str) -> GovernanceCase:
    case = (
        GovernanceCase.objects.select_related("addressee", "managed_object", "origin_subregion")
        .filter(number=number)
        .first()
    )
    if case is None:
        raise NotFound
    return case


@require_GET
@actor_required(Perm.GOVERNANCE_VIEW)
def case_detail(request: AuthedRequest, number: str) -> HttpResponse:
    case = _get_case(number)
    return render(request, "governance/case_detail.html", _case_context(request, case))


# --- Case actions: one dispatcher (accounts.decorators.run_action), as the cases and SIP pages use --------
# Each handler takes (actor, case, POST) and returns the success message; a refusal re-renders the case page
# with the error at its field, and the whole action is one transaction (ADR 0903, issue 14).


def _forum(data: QueryDict, message: str) -> Forum:
    raw = data.get("forum", "")
    forum = Forum.objects.filter(pk=raw).first() if raw.isdecimal() else None
    if forum is None:
        raise DomainError.single("forum", "R-GOV-2", message)
    return forum


def _move(actor: Actor, case: GovernanceCase, data: QueryDict) -> str:
    services.advance(actor, case, data.get("to_state", ""), data.get("reason", ""))
    return _("Ärendet är flyttat.")


def _assign(actor: Actor, case: GovernanceCase, data: QueryDict) -> str:
    services.assign(actor, case, _forum(data, _("Välj ett forum.")), data.get("decision_area", ""))
    return _("Ärendet är adresserat.")


def _endorse(actor: Actor, case: GovernanceCase, data: QueryDict) -> str:
    services.endorse(actor, case, data.get("comment", ""))
    return _("Delregionen står bakom ärendet.")


def _consult(actor: Actor, case: GovernanceCase, data: QueryDict) -> str:
    raw = data.get("deadline", "")
    try:
        deadline = dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        raise DomainError.single("deadline", "R-GOV-7", _("Ange ett datum som ÅÅÅÅ-MM-DD.")) from None
    services.start_consultation(actor, case, data.get("proposal", ""), deadline)
    return _("Remissen är skickad.")


def _respond(actor: Actor, case: GovernanceCase, data: QueryDict) -> str:
    raw = data.get("response", "")
    response = (
        ConsultationResponse.objects.filter(pk=raw, consultation__case=case).first()
        if raw.isdecimal()
        else None
    )
    if response is None:
        raise NotFound
    services.respond(actor, response, data.get("answer", ""), data.get("comment", ""))
    return _("Remissvaret är registrerat.")


def _close_consultation(actor: Actor, case: GovernanceCase, data: QueryDict) -> str:
    consultation = case.consultations.filter(closed_at__isnull=True).first()
    if consultation is None:
        raise DomainError.single("consultation", "R-GOV-7", _("Ingen öppen remiss."))
    services.close_consultation(actor, consultation)
    return _("Remissen är stängd och sammanställd.")


def _decide(actor: Actor, case: GovernanceCase, data: QueryDict) -> str:
    forum = _forum(data, _("Välj forum."))
    services.record_decision(actor, case, forum, data.get("outcome", ""), data.get("text", ""))
    return _("Beslutet är registrerat.")


CASE_HANDLERS: dict[str, Callable[..., str]] = {
    "move": _move,
    "assign": _assign,
    "endorse": _endorse,
    "consult": _consult,
    "respond": _respond,
    "close-consultation": _close_consultation,
    "decide": _decide,
}


def _case_action(request: AuthedRequest, number: str, name: str) -> HttpResponse:
    return run_action(
        request,
        name,
        handlers=CASE_HANDLERS,
        open_object=lambda _what: _get_case(number),
        context=lambda case: _case_context(request, case),
        template="governance/case_detail.html",
        success_url=lambda case: reverse("governance:case", args=[case.number]),
    )


@require_POST
@actor_required(Perm.GOVERNANCE_MANAGE)
def case_move(request: AuthedRequest, number: str) -> HttpResponse:
    return _case_action(request, number, "move")


@require_POST
@actor_required(Perm.GOVERNANCE_MANAGE)
def case_assign(request: AuthedRequest, number: str) -> HttpResponse:
    return _case_action(request, number, "assign")


@require_POST
@actor_required(Perm.GOVERNANCE_DECIDE)
def case_endorse(request: AuthedRequest, number: str) -> HttpResponse:
    return _case_action(request, number, "endorse")


@require_POST
@actor_required(Perm.GOVERNANCE_MANAGE)
def case_consult(request: AuthedRequest, number: str) -> HttpResponse:
    return _case_action(request, number, "consult")


@require_POST
@actor_required(Perm.GOVERNANCE_VIEW)
def case_respond(request: AuthedRequest, number: str) -> HttpResponse:
    return _case_action(request, number, "respond")


@require_POST
@actor_required(Perm.GOVERNANCE_MANAGE)
def case_close_consultation(request: AuthedRequest, number: str) -> HttpResponse:
    return _case_action(request, number, "close-consultation")


@require_POST
@actor_required(Perm.GOVERNANCE_DECIDE)
def case_decide(request: AuthedRequest, number: str) -> HttpResponse:
    return _case_action(request, number, "decide")


# --- Forums, meetings, objects, decisions ---------------------------------------------------------


@require_GET
@actor_required(Perm.GOVERNANCE_VIEW)
def forum_list(request: HttpRequest) -> HttpResponse:
    forums = [(f, services.forum_balance(f)) for f in Forum.objects.prefetch_related("members", "mandates")]
    return render(request, "governance/forum_list.html", {"forums": forums})


@actor_required(Perm.GOVERNANCE_VIEW)
def forum_detail(request: AuthedRequest, code: str) -> HttpResponse:
    forum = get_object_or_404(Forum, code=code)
    context: dict[str, object] = {
        "forum": forum,
        "balance": services.forum_balance(forum),
        "members": forum.members.select_related("subregion"),
        "meetings": forum.meetings.order_by("-starts_at"),
        "pending": forum.agenda_items.filter(meeting__isnull=True),
        "mandates": [MandateArea(m.area).label for m in forum.mandates.all()],
    }
    if request.method == "POST":
        request.actor.require(Perm.GOVERNANCE_MANAGE)
        try:
            starts_at = dt.datetime.fromisoformat(request.POST.get("starts_at", ""))
        except ValueError:
            errors = [
                DomainError.single("starts_at", "R-GOV-4", _("Ange tid som ÅÅÅÅ-MM-DDTHH:MM.")).problems[0]
            ]
            return render(request, "governance/forum_detail.html", {**context, "errors": errors}, status=400)
        if timezone.is_naive(starts_at):
            starts_at = timezone.make_aware(starts_at)
        meeting = services.plan_meeting(
            request.actor,
            forum,
            starts_at,
            request.POST.get("location", ""),
        )
        return redirect("governance:meeting", meeting_id=meeting.pk)
    return render(request, "governance/forum_detail.html", context)


def _meeting_context(meeting: Meeting) -> dict[str, object]:
    return {
        "meeting": meeting,
        "items": meeting.items.select_related("case", "carried_from"),
        "cases": GovernanceCase.objects.filter(addressee=meeting.forum, state__in=services.OPEN_STATES),
        "kinds": AgendaItem.Kind.choices,
        "outcomes": Decision.Outcome.choices,
        "decisions": meeting.decisions.select_related("case"),
        "deadline": meeting.starts_at - services.AGENDA_NOTICE,
    }


@actor_required(Perm.GOVERNANCE_VIEW)
def meeting_detail(request: AuthedRequest, meeting_id: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting.objects.select_related("forum"), pk=meeting_id)
    if request.method == "POST":
        actor = request.actor
        action = request.POST.get("action", "")
        try:
            if action == "from_cases":
                services.agenda_from_cases(actor, meeting)
            elif action == "add":
                case = GovernanceCase.objects.filter(pk=request.POST.get("case") or 0).first()
                services.add_agenda_item(
                    actor,
                    meeting,
                    request.POST.get("kind", ""),
                    request.POST.get("title", ""),
                    case,
                    request.POST.get("material", ""),
                )
            elif action == "publish":
                services.publish_agenda(actor, meeting, request.POST.get("late_reason", ""))
            elif action == "minutes":
                decisions = []
                for item in meeting.items.filter(case__isnull=False, kind=AgendaItem.Kind.DECISION):
                    outcome = request.POST.get(f"outcome-{item.pk}", "")
                    if outcome:
                        decisions.append(
                            MinuteDecision(item, outcome, request.POST.get(f"text-{item.pk}", ""))
                        )
                services.record_minutes(actor, meeting, request.POST.get("minutes", ""), decisions)
        except DomainError as exc:
            meeting.refresh_from_db()
            return render(
                request,
                "governance/meeting_detail.html",
                {**_meeting_context(meeting), "errors": exc.problems},
                status=400,
            )
        return redirect("governance:meeting", meeting_id=meeting.pk)
    return render(request, "governance/meeting_detail.html", _meeting_context(meeting))


@actor_required(Perm.GOVERNANCE_VIEW)
def object_list(request: AuthedRequest) -> HttpResponse:
    errors = None
    if request.method == "POST":
        obj = get_object_or_404(ManagedObject, pk=request.POST.get("object") or 0)
        try:
            since = dt.date.fromisoformat(request.POST.get("since", ""))
            services.set_managed_object_status(
                request.actor,
                obj,
                request.POST.get("status", ""),
                since,
                request.POST.get("note", ""),
            )
            return redirect("governance:objects")
        except ValueError:
            errors = [DomainError.single("since", "R-GOV-OBJ", _("Ange datum som ÅÅÅÅ-MM-DD.")).problems[0]]
        except DomainError as exc:
            errors = exc.problems
    objects = ManagedObject.objects.prefetch_related("status_history", "plans")
    groups = [
        (label, [o for o in objects if o.status == status]) for status, label in ManagedObject.Status.choices
    ]
    context = {"groups": groups, "statuses": ManagedObject.Status.choices, "errors": errors}
    return render(request, "governance/object_list.html", context, status=400 if errors else 200)


@actor_required(Perm.GOVERNANCE_VIEW)
def plan_detail(request: AuthedRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(
        ManagementPlan.objects.select_related("managed_object", "decided_by"), pk=plan_id
    )
    errors = None
    if request.method == "POST":
        goal = get_object_or_404(plan.goals, pk=request.POST.get("goal") or 0)
        try:
            services.follow_up_goal(
                request.actor,
                goal,
                request.POST.get("status", ""),
                request.POST.get("note", ""),
            )
            return redirect("governance:plan", plan_id=plan.pk)
        except DomainError as exc:
            errors = exc.problems
    goals = [(label, plan.goals.filter(category=c)) for c, label in GoalCategory.choices]
    context = {"plan": plan, "goals": goals, "statuses": GoalStatus.choices, "errors": errors}
    return render(request, "governance/plan_detail.html", context, status=400 if errors else 200)


@require_GET
@actor_required(Perm.GOVERNANCE_VIEW)
def decision_log(request: HttpRequest) -> HttpResponse:
    decisions = Decision.objects.select_related("forum", "meeting", "case")[:500]
    return render(request, "governance/decision_log.html", {"decisions": decisions})


# --- Service communication and the quarterly report ----------------------------------------------


def _base_url(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _notices_context(request: HttpRequest) -> dict[str, object]:

    actor = getattr(request, "actor", None)
    manage = bool(actor and actor.can(Perm.GOVERNANCE_MANAGE))
    return {
        "notices": ServiceNotice.objects.filter(published_at__isnull=False).prefetch_related("cases")[:100],
        "drafts": ServiceNotice.objects.filter(published_at__isnull=True) if manage else [],
        "manage": manage,
        "kinds": ServiceNotice.Kind.choices,
        "objects": ManagedObject.objects.filter(status=ManagedObject.Status.CURRENT),
        "delivered": GovernanceCase.objects.filter(
            state__in=[CaseState.DECIDED, CaseState.IMPLEMENTATION, CaseState.DONE]
        ),
    }


def notices(request: HttpRequest) -> HttpResponse:
    """Public: published notices, and an e-mail subscription form. GITS drafts and publishes here."""

    if request.method == "POST":
        action = request.POST.get("action", "")
        actor = getattr(request, "actor", None)
        try:
            if action == "subscribe":
                communication.subscribe(request.POST.get("email", ""), request.POST.getlist("kinds"))
                messages.success(request, _("Prenumerationen är sparad."))
            elif action in ("draft", "publish"):
                if actor is None or not actor.can(Perm.GOVERNANCE_MANAGE):
                    return render(
                        request,
                        "web/forbidden.html",
                        {"permission": Perm.GOVERNANCE_MANAGE.value},
                        status=403,
                    )
                if action == "draft":
                    obj_id = request.POST.get("managed_object", "")
                    starts = request.POST.get("starts_at", "")
                    starts_at = timezone.make_aware(dt.datetime.fromisoformat(starts)) if starts else None
                    communication.draft_notice(
                        actor,
                        request.POST.get("kind", ""),
                        request.POST.get("title", ""),
                        request.POST.get("body", ""),
                        managed_object=ManagedObject.objects.filter(pk=obj_id).first()
                        if obj_id.isdecimal()
                        else None,
                        starts_at=starts_at,
                        cases=GovernanceCase.objects.filter(pk__in=request.POST.getlist("cases")),
                    )
                    messages.success(request, _("Utkastet är sparat."))
                else:
                    notice = get_object_or_404(ServiceNotice, pk=request.POST.get("notice") or 0)
                    notice = communication.publish_notice(actor, notice, _base_url(request))
                    messages.success(
                        request, _("Publicerad och skickad till %d prenumeranter.") % notice.mailed_count
                    )
        except ValueError:
            errors = [
                DomainError.single("starts_at", "R-COM-1", _("Ange tid som ÅÅÅÅ-MM-DDTHH:MM.")).problems[0]
            ]
            return render(
                request,
                "governance/notices.html",
                {**_notices_context(request), "errors": errors},
                status=400,
            )
        except DomainError as exc:
            return render(
                request,
                "governance/notices.html",
                {**_notices_context(request), "errors": exc.problems},
                status=400,
            )
        return redirect("governance:notices")
    return render(request, "governance/notices.html", _notices_context(request))


@require_GET
def notices_feed(request: HttpRequest) -> HttpResponse:

    return HttpResponse(atom_feed(_base_url(request)), content_type="application/atom+xml; charset=utf-8")


@require_GET
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:

    removed = do_unsubscribe(token)
    return render(request, "governance/unsubscribed.html", {"removed": removed})


@require_GET
@actor_required(Perm.ECONOMY_VIEW)
def quarterly_report(request: HttpRequest, year: int, quarter: int) -> HttpResponse:

    try:
        report = build(year, quarter)
    except DomainError as exc:
        raise NotFound from exc
    return render(request, "governance/report.html", {"report": report})


@require_GET
@actor_required(Perm.ECONOMY_VIEW)
def quarterly_report_pdf(request: HttpRequest, year: int, quarter: int) -> HttpResponse:

    try:
        report = build(year, quarter)
    except DomainError as exc:
        raise NotFound from exc
    response = HttpResponse(report_pdf(report), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="sitiv-kvartalsrapport-{year}-q{quarter}.pdf"'
    return response


@require_GET
@actor_required(Perm.ECONOMY_VIEW)
def report_current(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    return redirect("governance:report", year=today.year, quarter=(today.month - 1) // 3 + 1)


# --- Editing forums and their seats ----------------------------------------------------------------------


def _forum_input(request: HttpRequest, code: str = "") -> services.ForumInput:
    post = request.POST
    return services.ForumInput(
        code=post.get("code", code),
        name=post.get("name", ""),
        kind=post.get("kind", ""),
        mandate=post.get("mandate", ""),
        areas=post.getlist("areas"),
        meeting_frequency=post.get("meeting_frequency", ""),
        convener=post.get("convener", ""),
        requires_balance=post.get("requires_balance") == "on",
        source=post.get("source", ""),
    )


def _forum_form_context(forum: Forum | None) -> dict[str, object]:
    return {
        "forum": forum,
        "kinds": Forum.Kind.choices,
        "areas": MandateArea.choices,
        "chosen_areas": list(forum.mandates.values_list("area", flat=True)) if forum else [],
        "members": forum.members.select_related("organisation", "subregion") if forum else [],
        "balance": services.forum_balance(forum) if forum else None,
        "sides": Side.choices,
        "roles": ForumMember.Role.choices,
        "organisations": Organisation.objects.filter(principal__isnull=True).order_by("kind", "name"),
        "subregions": Subregion.objects.all(),
        "changes": forum.changes.select_related("by")[:20] if forum else [],
    }


def _refused(request: HttpRequest, forum: Forum | None, exc: DomainError, action: str) -> HttpResponse:
    return render(
        request,
        "governance/forum_form.html",
        {
            **_forum_form_context(forum),
            "errors": exc.problems,
            "field_errors": {p.field: str(p.message) for p in exc.problems},
            "action": action,
            "form": request.POST,
            "chosen_areas": request.POST.getlist("areas")
            if action == "forum"
            else _forum_form_context(forum)["chosen_areas"],
        },
        status=400,
    )


@actor_required(Perm.GOVERNANCE_MANAGE)
def forum_new(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            forum = services.save_forum(request.actor, _forum_input(request))
        except DomainError as exc:
            return _refused(request, None, exc, "forum")
        messages.success(request, _("Forumet är skapat. Lägg till ledamöter."))
        return redirect("governance:forum_edit", code=forum.code)
    return render(request, "governance/forum_form.html", {**_forum_form_context(None), "action": "forum"})


@actor_required(Perm.GOVERNANCE_MANAGE)
def forum_edit(request: AuthedRequest, code: str) -> HttpResponse:
    forum = get_object_or_404(Forum, code=code)
    actor = request.actor
    if request.method == "POST":
        action = request.POST.get("action", "forum")
        flag = None
        try:
            if action == "forum":
                services.save_forum(actor, _forum_input(request, forum.code), forum)
            elif action == "add-member":
                org_id, sub_id = request.POST.get("organisation", ""), request.POST.get("subregion", "")
                _member, flag = services.add_forum_member(
                    actor,
                    forum,
                    request.POST.get("title", ""),
                    request.POST.get("side", ""),
                    request.POST.get("role", ForumMember.Role.MEMBER),
                    organisation=Organisation.objects.filter(pk=org_id).first()
                    if org_id.isdecimal()
                    else None,
                    subregion=Subregion.objects.filter(pk=sub_id).first() if sub_id.isdecimal() else None,
                )
            elif action == "remove-member":
                member = get_object_or_404(ForumMember, pk=request.POST.get("member") or 0, forum=forum)
                flag = services.remove_forum_member(actor, member)
            else:
                raise NotFound
        except DomainError as exc:
            return _refused(request, forum, exc, action)
        messages.success(request, _("Forumet är uppdaterat."))
        if flag is not None:
            messages.warning(request, f"{flag.message} ({flag.rule})")
        return redirect("governance:forum_edit", code=forum.code)
    return render(request, "governance/forum_form.html", {**_forum_form_context(forum), "action": ""})
