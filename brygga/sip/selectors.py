"""Reading SIPs and care requests for a unit: the inbox items and the lists. Derived from structured state
(status, dates, acknowledgements), so nobody has to read a thread to know what is due."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.access.services import involved_person_ids
from brygga.organisations.models import Unit
from brygga.people.models import Person
from brygga.sip import rules
from brygga.sip.models import CareRequest, FollowUp, Sip, SipParticipant

STATE_ORDER = {"overdue": 0, "due_soon": 1, "new": 2, "awaiting_answer": 3, "open": 4}


@dataclass
class InboxItem:
    """One thing in a unit's inbox. ``state`` is overdue | due_soon | new | awaiting_answer | open.
    ``person`` is for the caller to show through brygga.people.presenters and to access-log."""

    kind: str  # "sip" | "care_request"
    pk: int
    person: Person
    state: str
    label: str
    rule: str
    due_at: dt.datetime | None
    url: str

    @property
    def priority(self) -> int:
        return STATE_ORDER.get(self.state, 9)


def _end_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)))


def _due_state(due_at: dt.datetime, now: dt.datetime, soon: dt.timedelta = rules.DUE_SOON) -> str | None:
    if now > due_at:
        return "overdue"
    if now > due_at - soon:
        return "due_soon"
    return None


def _sip_item(sip: Sip, participant: SipParticipant, unit: Unit, now: dt.datetime) -> InboxItem:
    url = reverse("sip:detail", args=[sip.pk])
    follow_ups = [f for f in sip.follow_ups.all() if f.done_at is None and f.responsible_unit_id == unit.pk]
    for follow_up in sorted(follow_ups, key=lambda f: f.due_on):
        due = _end_of_day(follow_up.due_on)
        state = _due_state(due, now)
        if state:
            return InboxItem(
                "sip", sip.pk, sip.person, state, _("Uppföljning av SIP"), "R-VG-SIP-1", due, url
            )
    case = sip.case
    if (
        case is not None
        and sip.initiated_by_unit_id == unit.pk
        and sip.summoned_at is None
        and case.sip_summons_due_at is not None
        and case.sip_summons_sent_at is None
    ):
        state = _due_state(case.sip_summons_due_at, now, dt.timedelta(hours=12))
        if state:
            return InboxItem(
                "sip",
                sip.pk,
                sip.person,
                state,
                _("Kallelse till SIP"),
                "R-SIP-K-1",
                case.sip_summons_due_at,
                url,
            )
    if participant.acknowledged_at is None:
        label = _("Kallelse till SIP-möte") if sip.status == Sip.Status.SUMMONED else _("Ny händelse i SIP")
        return InboxItem("sip", sip.pk, sip.person, "new", label, "R-VG-SIP-1", sip.meeting_at, url)
    next_due = min((_end_of_day(f.due_on) for f in follow_ups), default=None)
    return InboxItem("sip", sip.pk, sip.person, "open", sip.get_status_display(), "R-VG-SIP-1", next_due, url)


def _care_request_item(request: CareRequest, unit: Unit, now: dt.datetime) -> InboxItem:
    url = reverse("sip:care_request", args=[request.pk])
    if request.to_unit_id == unit.pk:
        due = request.answer_due_at
        assert due is not None
        state = _due_state(due, now, dt.timedelta(hours=4)) or (
            "new" if request.opened_at is None else "awaiting_answer"
        )
        return InboxItem(
            "care_request",
            request.pk,
            request.person,
            state,
            _("Vårdbegäran att besvara"),
            "OV-SVAR",
            due,
            url,
        )
    return InboxItem(
        "care_request",
        request.pk,
        request.person,
        "awaiting_answer",
        _("Vårdbegäran: fråga att besvara"),
        "OV-SVAR",
        None,
        url,
    )


def inbox_items(unit: Unit, now: dt.datetime | None = None) -> list[InboxItem]:
    """The SIPs and care requests that concern the unit and need attention or are under way: overdue and
    due-soon follow-ups and summons deadlines first, then new, then awaiting an answer. No access-log entry
    is written here (there is no actor): the caller that shows the items logs them, as one list read
    (``brygga.access.services.log_list_access``). Need-to-know: only persons the unit is involved with, and a
    planned participant sees a SIP only once it has been summoned."""
    now = now or timezone.now()
    items: list[InboxItem] = []
    participants = (
        SipParticipant.objects.filter(unit=unit, sip__person_id__in=involved_person_ids(unit))
        .filter(Q(sip__summoned_at__isnull=False) | Q(sip__initiated_by_unit=unit))
        .exclude(sip__status=Sip.Status.CLOSED)
        .select_related("sip__person", "sip__case")
        .prefetch_related("sip__follow_ups")
    )
    for participant in participants:
        items.append(_sip_item(participant.sip, participant, unit, now))
    requests = CareRequest.objects.filter(
        Q(to_unit=unit, status=CareRequest.Status.SENT)
        | Q(from_unit=unit, status=CareRequest.Status.NEEDS_INFO)
    ).select_related("person")
    for request in requests:
        items.append(_care_request_item(request, unit, now))
    items.sort(key=lambda i: (i.priority, i.due_at or now + dt.timedelta(days=3650)))
    return items


def sips_for_unit(unit: Unit, include_closed: bool = False) -> list[Sip]:
    qs = (
        Sip.objects.filter(participants__unit=unit, person_id__in=involved_person_ids(unit))
        .filter(Q(summoned_at__isnull=False) | Q(initiated_by_unit=unit))
        .select_related("person", "initiated_by_unit")
    )
    if not include_closed:
        qs = qs.exclude(status=Sip.Status.CLOSED)
    return list(qs.distinct().order_by("-last_event_at", "-id")[:200])


def care_requests_for_unit(unit: Unit, include_closed: bool = False) -> list[CareRequest]:
    qs = CareRequest.objects.filter(
        Q(from_unit=unit) | Q(to_unit=unit), person_id__in=involved_person_ids(unit)
    ).select_related("person", "from_unit", "to_unit")
    if not include_closed:
        qs = qs.filter(
            status__in=[CareRequest.Status.SENT, CareRequest.Status.NEEDS_INFO, CareRequest.Status.ACCEPTED]
        )
    return list(qs.order_by("-sent_at", "-id")[:200])


def open_follow_ups(sip: Sip) -> list[FollowUp]:
    return list(sip.follow_ups.filter(done_at__isnull=True).select_related("responsible_unit"))
