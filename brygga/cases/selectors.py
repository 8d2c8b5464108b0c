"""Reading cases: deadlines, the status header and the unit inboxes. Everything here is derived from the
structured state on Case and Participant, so nobody has to read a thread to know where a case stands."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.access.services import log_list_access
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.cases import rules
from brygga.cases.models import Case, Participant
from brygga.people.presenters import display_identifier, display_name


@dataclass
class Deadline:
    label: str
    rule: str
    due_at: dt.datetime
    done: bool = False

    def state(self, now: dt.datetime) -> str:
        if self.done:
            return "done"
        if now > self.due_at:
            return "overdue"
        if now > self.due_at - rules.DUE_SOON:
            return "due_soon"
        return "pending"


def _end_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)))


def deadlines(case: Case, role: str | None = None) -> list[Deadline]:
    """The open and met deadlines of the case; ``role`` limits them to what that kind of unit must do."""
    found: list[Deadline] = []
    open_case = case.status in (Case.Status.ADMITTED, Case.Status.ON_LEAVE)
    if role in (None, Participant.Role.WARD) and case.notice_due_at is not None:
        found.append(
            Deadline(
                _("Inskrivningsmeddelande"),
                "R-INS-2" if case.need_assessed_at == case.admitted_at else "R-INS-3",
                case.notice_due_at,
                done=case.notice_sent_at is not None,
            )
        )
    if role in (None, Participant.Role.PRIMARY_CARE):
        if case.sip_summons_due_at is not None:
            found.append(
                Deadline(
                    _("Kallelse till SIP"),
                    "R-SIP-K-1",
                    case.sip_summons_due_at,
                    done=case.sip_summons_sent_at is not None,
                )
            )
        if case.expected_discharge_date and case.notice_sent_at and open_case:
            found.append(
                Deadline(
                    _("Fast vårdkontakt före utskrivning"),
                    "R-FVK-1",
                    _end_of_day(case.expected_discharge_date),
                    done=bool(case.coordinator_name),
                )
            )
    if role in (None, Participant.Role.WARD) and case.expected_discharge_date and open_case:
        found.append(
            Deadline(
                _("Information vid utskrivning"),
                "R-UTS-1",
                _end_of_day(case.expected_discharge_date),
                done=case.discharge_info_sent_at is not None,
            )
        )
    return found


def status_header(case: Case, now: dt.datetime | None = None) -> dict[str, Any]:
    """The status line at the top of a case, built from structured state."""
    now = now or timezone.now()
    dls = deadlines(case)
    meeting = case.meetings.filter(starts_at__gte=now).order_by("starts_at").first()
    return {
        "status": case.get_status_display(),
        "status_code": case.status,
        "admitted_at": case.admitted_at,
        "expected_discharge_date": case.expected_discharge_date,
        "expected_date_changes": case.events.filter(kind="expected_date_changed").count(),
        "discharge_ready_at": case.discharge_ready_at,
        "notice_sent_at": case.notice_sent_at,
        "notice_late": case.notice_late,
        "coordinator": case.coordinator_name,
        "next_meeting": meeting,
        "sip_needed": case.sip_needed,
        "deadlines": [{"deadline": d, "state": d.state(now)} for d in dls],
        "overdue": [d for d in dls if d.state(now) == "overdue"],
    }


@dataclass
class InboxRow:
    participant: Participant
    case: Case
    name: str
    identifier: str
    deadlines: list[tuple[Deadline, str]] = field(default_factory=list)
    escalated: bool = False
    new: bool = False

    @property
    def priority(self) -> int:
        states = {s for _d, s in self.deadlines}
        if self.escalated or "overdue" in states:
            return 0
        if "due_soon" in states:
            return 1
        if self.new or self.participant.needs_ack:
            return 2
        return 3


FILTERS = {
    "open": Q(case__status__in=[Case.Status.ADMITTED, Case.Status.ON_LEAVE]),
    "discharged": Q(case__status=Case.Status.DISCHARGED),
    "closed": Q(case__status__in=[Case.Status.CLOSED, Case.Status.CANCELLED, Case.Status.DIED]),
    "unacknowledged": Q(needs_ack=True),
    "all": Q(),
}


def unit_participations(actor: Actor) -> QuerySet[Participant]:
    if not actor.can(Perm.CASE_READ) or actor.unit is None:
        return Participant.objects.none()
    return Participant.objects.filter(unit=actor.unit, status=Participant.Status.ACTIVE)


def inbox(actor: Actor, status: str = "open", q: str = "", limit: int = 500) -> list[InboxRow]:
    """The active unit's inbox: overdue and escalated first, then due soon, then unacknowledged. Every person
    shown is access-logged as one list read."""
    now = timezone.now()
    only_urgent = status == "urgent"
    qs = unit_participations(actor).filter(FILTERS.get(status, FILTERS["open"]))
    q = q.strip()
    if q:
        digits = q.replace("-", "")
        if digits.isdigit():
            qs = qs.filter(case__person__identifier__contains=digits)
        else:
            # Names of protected persons are never searchable: a match would confirm the name.
            qs = qs.filter(
                Q(case__person__family_name__icontains=q) | Q(case__person__given_name__icontains=q),
                case__person__protected_identity=False,
            )
    participants = list(
        qs.select_related(
            "case__person__registered_municipality",
            "case__person__listed_unit",
            "case__ward",
            "case__site",
            "case__municipality",
        ).order_by("-case__last_event_at")[:limit]
    )
    rows = []
    for p in participants:
        case = p.case
        dls = [(d, d.state(now)) for d in deadlines(case, p.role)]
        escalated = bool(
            p.needs_ack and p.unacked_since and now > p.unacked_since + rules.acknowledgement_deadline()
        )
        rows.append(
            InboxRow(
                participant=p,
                case=case,
                name=display_name(case.person),
                identifier=display_identifier(case.person),
                deadlines=[(d, s) for d, s in dls if s != "done"],
                escalated=escalated,
                new=p.acknowledged_at is None,
            )
        )
    if only_urgent:
        rows = [r for r in rows if r.priority <= 1]
    rows.sort(key=lambda r: (r.priority, -(r.case.last_event_at or r.case.admitted_at).timestamp()))
    log_list_access(actor, [r.case.person for r in rows], f"inkorg:{actor.unit.pk if actor.unit else ''}")
    return rows


def inbox_summaries(actor: Actor) -> list[dict[str, Any]]:
    """Counts for every unit the user works in, for the top of the inbox: no personal data, so no log."""
    memberships = actor.user.memberships.select_related("unit").order_by("unit__name")
    summaries = []
    for membership in memberships:
        if not membership.allows(Perm.CASE_READ):
            continue
        counts = Participant.objects.filter(
            unit=membership.unit,
            status=Participant.Status.ACTIVE,
            case__status__in=[Case.Status.ADMITTED, Case.Status.ON_LEAVE],
        ).aggregate(
            open=Count("id"),
            unacknowledged=Count("id", filter=Q(needs_ack=True)),
            new=Count(
                "id", filter=Q(acknowledged_at__isnull=True, role__in=["municipality", "primary_care"])
            ),
            escalated=Count(
                "id",
                filter=Q(needs_ack=True, unacked_since__lt=timezone.now() - rules.acknowledgement_deadline()),
            ),
        )
        summaries.append(
            {
                "membership": membership,
                "unit": membership.unit,
                "active": actor.membership is not None and actor.membership.pk == membership.pk,
                **counts,
            }
        )
    return summaries
