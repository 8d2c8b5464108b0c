"""Deviation pages: report (also from a case page, with only a reference text), the own organisation's list,
one deviation with its deadlines and the next step, and the suppressed quarterly overview. Thin: rules live in
services, reads in selectors."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from brygga.accounts.context import AuthedRequest
from brygga.accounts.decorators import actor_required
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError, PermissionDenied
from brygga.core.paging import html_page
from brygga.deviations import selectors, services
from brygga.deviations.models import Category, DeviationState
from brygga.organisations.models import Organisation

STEP_LABELS: dict[str, object] = {
    DeviationState.RECEIVED: gettext_lazy("Bekräfta mottagen"),
    DeviationState.INVESTIGATING: gettext_lazy("Starta utredning"),
    DeviationState.ANSWERED: gettext_lazy("Skicka svar"),
    DeviationState.CLOSED: gettext_lazy("Avsluta"),
}


def _field_errors(exc: DomainError) -> dict[str, str]:
    return {p.field: str(p.message) for p in exc.problems}


def _require_party_role(request: AuthedRequest) -> None:
    actor = request.actor
    if not (actor.can(Perm.DEVIATION_REPORT) or actor.can(Perm.DEVIATION_HANDLE)):
        raise PermissionDenied(Perm.DEVIATION_REPORT.value)


@require_GET
@actor_required()
def deviation_list(request: AuthedRequest) -> HttpResponse:
    _require_party_role(request)
    actor = request.actor
    principal = services.actor_principal(actor)
    own = principal.pk if principal else None
    rows = selectors.visible_to(actor).order_by("-reported_at", "-pk")
    return render(
        request,
        "deviations/list.html",
        {
            "received": html_page(request, rows.filter(receiving_organisation_id=own), key="sida"),
            "reported": html_page(request, rows.filter(reporting_organisation_id=own), key="rapporterade"),
            "today": timezone.localdate(),
            "open_states": selectors.OPEN_STATES,
        },
    )


@actor_required(Perm.DEVIATION_REPORT)
def deviation_new(request: AuthedRequest) -> HttpResponse:
    actor = request.actor
    data = request.POST if request.method == "POST" else request.GET
    context: dict[str, object] = {
        "categories": Category.choices,
        "organisations": services.receiving_choices(actor),
        "source_reference": data.get("fran", data.get("source_reference", ""))[:120],
        "chosen_org": data.get("mottagare", data.get("receiving_organisation", "")),
        "form": request.POST,
        "today": timezone.localdate(),
        "action": "report",
    }
    if request.method == "POST":
        org_id = request.POST.get("receiving_organisation", "")
        try:
            deviation = services.report_deviation(
                actor,
                request.POST.get("category", ""),
                request.POST.get("occurred_on", ""),
                Organisation.objects.filter(pk=org_id).first() if org_id.isdecimal() else None,
                request.POST.get("description", ""),
                source_reference=request.POST.get("source_reference", ""),
            )
        except DomainError as exc:
            return render(
                request,
                "deviations/new.html",
                {**context, "errors": exc.problems, "field_errors": _field_errors(exc)},
                status=400,
            )
        messages.success(request, _("Avvikelsen %s är rapporterad.") % deviation.number)
        return redirect("deviations:detail", number=deviation.number)
    return render(request, "deviations/new.html", context)


def _detail_context(request: AuthedRequest, number: str) -> dict[str, object]:
    actor = request.actor
    deviation = selectors.get_for(actor, number)
    receiver, reporter = services.is_receiver(actor, deviation), services.is_reporter(actor, deviation)
    steps = []
    if receiver and actor.can(Perm.DEVIATION_HANDLE):
        steps += sorted(services.RECEIVER_MOVES.get(deviation.state, set()))
    if reporter and actor.can(Perm.DEVIATION_REPORT):
        steps += sorted(services.REPORTER_MOVES.get(deviation.state, set()))
    return {
        "deviation": deviation,
        "events": deviation.events.select_related("by", "unit"),
        "deadlines": selectors.deadlines(deviation),
        "steps": [(s, STEP_LABELS[s]) for s in steps],
        "is_receiver": receiver,
        "is_reporter": reporter,
    }


@require_GET
@actor_required()
def deviation_detail(request: AuthedRequest, number: str) -> HttpResponse:
    _require_party_role(request)
    return render(request, "deviations/detail.html", _detail_context(request, number))


@require_POST
@actor_required()
def deviation_step(request: AuthedRequest, number: str) -> HttpResponse:
    _require_party_role(request)
    actor = request.actor
    deviation = selectors.get_for(actor, number)
    try:
        services.move(actor, deviation, request.POST.get("to_state", ""), request.POST.get("note", ""))
    except DomainError as exc:
        context = _detail_context(request, number)
        return render(
            request,
            "deviations/detail.html",
            {
                **context,
                "errors": exc.problems,
                "field_errors": _field_errors(exc),
                "action": "step",
                "form": request.POST,
            },
            status=400,
        )
    messages.success(request, _("Avvikelsen är uppdaterad."))
    return redirect("deviations:detail", number=number)


@require_GET
@actor_required(Perm.DEVIATION_OVERVIEW)
def overview(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    try:
        year = int(request.GET.get("ar", today.year))
        quarter = int(request.GET.get("kvartal", (today.month - 1) // 3 + 1))
    except ValueError:
        year, quarter = today.year, (today.month - 1) // 3 + 1
    if quarter not in (1, 2, 3, 4):
        quarter = (today.month - 1) // 3 + 1
    return render(
        request,
        "deviations/overview.html",
        {"counts": selectors.quarter_counts(year, quarter), "year": year, "quarter": quarter},
    )
