"""The log reviewer's pages: search the access log, see accesses without involvement, record a documented
review, and produce a person's log extract (R-LOG-1..3). A reviewer sees the log of their own principal."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.access import services
from brygga.access.models import AccessLogEntry, LogReview
from brygga.accounts.context import Actor, AuthedRequest
from brygga.accounts.decorators import actor_required
from brygga.accounts.models import AuthMethod
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError, Problem
from brygga.core.paging import html_page
from brygga.people.identifiers import parse_identity_number

FLAGGABLE = [
    AccessLogEntry.Action.READ,
    AccessLogEntry.Action.LOOKUP,
    AccessLogEntry.Action.REVEAL,
    AccessLogEntry.Action.UPDATE,
    AccessLogEntry.Action.CREATE,
]


def scoped_log(actor: Actor) -> QuerySet[AccessLogEntry]:
    """The part of the log a reviewer may see: entries made in units of the reviewer's principal."""
    principal = actor.unit.principal if actor.unit else None
    if principal is None:
        return AccessLogEntry.objects.none()
    return AccessLogEntry.objects.filter(
        Q(unit__organisation=principal) | Q(unit__organisation__principal=principal)
    )


def _parse_date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@actor_required(Perm.ACCESS_LOG_REVIEW)
def log_search(request: AuthedRequest) -> HttpResponse:
    actor: Actor = request.actor
    entries = scoped_log(actor)
    filters = {
        key: request.GET.get(key, "").strip()
        for key in ("person", "user", "unit", "from", "to", "flagged", "denied", "auth")
    }
    errors: list[Problem] = []
    if filters["person"]:
        try:
            entries = entries.filter(
                person_identifier=parse_identity_number(filters["person"], "person").value
            )
        except DomainError as exc:
            errors.extend(exc.problems)
            entries = entries.none()
    if filters["user"]:
        entries = entries.filter(user_label__icontains=filters["user"])
    if filters["unit"]:
        entries = entries.filter(unit_label__icontains=filters["unit"])
    if start := _parse_date(filters["from"]):
        entries = entries.filter(at__date__gte=start)
    if end := _parse_date(filters["to"]):
        entries = entries.filter(at__date__lte=end)
    if filters["flagged"]:
        entries = entries.filter(had_involvement=False, action__in=FLAGGABLE)
    if filters["denied"]:
        entries = entries.filter(action=AccessLogEntry.Action.DENIED)
    if filters["auth"] == "none":
        entries = entries.filter(auth_method="")
    elif filters["auth"] in AuthMethod.values:
        entries = entries.filter(auth_method=filters["auth"])
    pages = html_page(request, entries.order_by("-at", "-id"), 50)
    return render(
        request,
        "access/log_search.html",
        {
            "page": pages.page,
            "pages": pages,
            "filters": filters,
            "errors": errors,
            "outcomes": LogReview.Outcome.choices,
            "kinds": LogReview.Kind.choices,
            "denied_by_user": denied_by_user(actor),
            "denied_days": DENIED_SUMMARY_DAYS,
            "auth_methods": AuthMethod.choices,
        },
    )


DENIED_SUMMARY_DAYS = 30


def denied_by_user(actor: Actor, days: int = DENIED_SUMMARY_DAYS, limit: int = 20) -> list[dict[str, Any]]:
    """Refused attempts per user in the reviewer's part of the log over the last ``days`` days, most first: a
    user who asks for many persons not theirs stands out (issue 13 item 8)."""
    since = timezone.now() - dt.timedelta(days=days)
    rows: Any = (
        scoped_log(actor)
        .filter(action=AccessLogEntry.Action.DENIED, at__gte=since)
        .values("user_id", "user_label")
        .annotate(count=Count("id"), last=Max("at"))
        .order_by("-count", "user_label")[:limit]
    )
    return list(rows)


@actor_required(Perm.ACCESS_LOG_REVIEW)
def record_review(request: AuthedRequest) -> HttpResponse:
    actor: Actor = request.actor
    if request.method != "POST":
        return redirect("access:log_search")
    ids = request.POST.getlist("entries")
    entries = list(scoped_log(actor).filter(pk__in=[i for i in ids if i.isdecimal()]))
    problems = []
    if not entries:
        problems.append(Problem("entries", "LOGGRANSKNING", _("Välj minst en loggpost att granska.")))
    outcome = request.POST.get("outcome", "")
    if outcome not in LogReview.Outcome.values:
        problems.append(Problem("outcome", "LOGGRANSKNING", _("Välj en bedömning.")))
    kind = request.POST.get("kind", LogReview.Kind.FLAGGED)
    if kind not in LogReview.Kind.values:
        problems.append(Problem("kind", "LOGGRANSKNING", _("Välj typ av granskning.")))
    comment = request.POST.get("comment", "").strip()
    if not comment:
        problems.append(
            Problem("comment", "LOGGRANSKNING", _("Beskriv granskningen: vad som kontrollerades och varför."))
        )
    if problems:
        return render(request, "access/review_error.html", {"errors": problems}, status=400)
    services.record_log_review(actor, entries, kind, outcome, comment)
    return render(request, "access/review_done.html", {"count": len(entries)})


@actor_required(Perm.ACCESS_LOG_REVIEW)
def reviews(request: AuthedRequest) -> HttpResponse:
    actor: Actor = request.actor
    principal = actor.unit.principal if actor.unit else None
    qs = (
        LogReview.objects.filter(
            Q(reviewer_unit__organisation=principal) | Q(reviewer_unit__organisation__principal=principal)
        )
        .select_related("reviewer", "reviewer_unit")
        .prefetch_related("entries")
    )
    return render(request, "access/reviews.html", {"reviews": qs[:200]})


@actor_required(Perm.ACCESS_LOG_REVIEW)
def log_extract(request: AuthedRequest) -> HttpResponse:
    """The extract a person may request: which units accessed the data and when (R-LOG-3)."""
    actor: Actor = request.actor
    context: dict[str, object] = {}
    identifier = request.GET.get("person", "").strip()
    if identifier:
        context["identifier"] = identifier
        try:
            number = parse_identity_number(identifier, "person")
        except DomainError as exc:
            context["errors"] = exc.problems
            return render(request, "access/log_extract.html", context, status=400)
        person = services.person_by_identifier(number.value)
        if person is None:
            context["not_found"] = True
        else:
            entries = list(services.log_extract(person).select_related("unit"))
            services.log_access(
                actor, person, AccessLogEntry.Action.EXPORT, "loggutdrag", had_involvement=False
            )
            context.update(person=person, entries=entries)
    return render(request, "access/log_extract.html", context)
