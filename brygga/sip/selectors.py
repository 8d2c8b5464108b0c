"""Reading SIPs and care requests for a unit: the inbox items and the lists. Derived from structured state
(status, dates, acknowledgements), so nobody has to read a thread to know what is due."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Case as DbCase
from django.db.models import (
    DateTimeField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.access.services import involved_person_ids
from brygga.cases.models import Case
from brygga.core import inbox, statements
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


def _most_urgent(
    *candidates: tuple[str, dt.datetime, str, str] | None,
) -> tuple[str, dt.datetime, str, str] | None:
    found = [c for c in candidates if c is not None]
    return min(found, key=lambda c: (STATE_ORDER[c[0]], c[1])) if found else None


def _sip_item(sip: Sip, participant: SipParticipant, unit: Unit, now: dt.datetime) -> InboxItem:
    url = reverse("sip:detail", args=[sip.pk])
    follow_ups = [f for f in sip.follow_ups.all() if f.done_at is None and f.responsible_unit_id == unit.pk]
    follow_up = None
    if follow_ups:
        due = _end_of_day(min(f.due_on for f in follow_ups))
        state = _due_state(due, now)
        follow_up = (state, due, str(_("Uppföljning av SIP")), "R-VG-SIP-1") if state else None
    summons = None
    case = sip.case
    if (
        case is not None
        and sip.initiated_by_unit_id == unit.pk
        and sip.summoned_at is None
        and case.sip_summons_due_at is not None
        and case.sip_summons_sent_at is None
    ):
        state = _due_state(case.sip_summons_due_at, now, SUMMONS_DUE_SOON)
        summons = (
            (state, case.sip_summons_due_at, str(_("Kallelse till SIP")), "R-SIP-K-1") if state else None
        )
    urgent = _most_urgent(follow_up, summons)
    if urgent:
        state, due, label, rule = urgent
        return InboxItem("sip", sip.pk, sip.person, state, label, rule, due, url)
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
        state = _due_state(due, now, CARE_REQUEST_DUE_SOON) or (
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


# --- the inbox in the database ------------------------------------------------------------------------------
# The unit inbox (brygga.inbox.selectors.inbox_page) pages discharge cases, SIPs and care requests together;
# the SIP and the care request contribute their sources here, with the columns of brygga.core.inbox.

SUMMONS_DUE_SOON = dt.timedelta(hours=12)
CARE_REQUEST_DUE_SOON = dt.timedelta(hours=4)
Search = Callable[[str], Q]


def sip_inbox_source(
    unit: Unit,
    now: dt.datetime,
    *,
    only_new: bool = False,
    only_urgent: bool = False,
    search: Search | None = None,
) -> QuerySet[Any]:
    """The unit's SIP rows (one per SipParticipant) as inbox columns. Need-to-know as ``inbox_items``."""
    # The clock's values as ``at_run`` values: the inbox compiles this once per unit and view (ADR 0704).
    today = statements.day(now)
    soon_day = statements.day(now, rules.DUE_SOON)
    follow_up = (
        FollowUp.objects.filter(sip=OuterRef("sip_id"), done_at__isnull=True, responsible_unit=unit)
        .order_by("due_on")
        .values("due_on")[:1]
    )
    summons_open = Q(
        sip__initiated_by_unit=unit,
        sip__summoned_at__isnull=True,
        sip__case__sip_summons_sent_at__isnull=True,
        sip__case__sip_summons_due_at__isnull=False,
    )
    qs = (
        SipParticipant.objects.filter(unit=unit, sip__person_id__in=involved_person_ids(unit, now))
        .filter(Q(sip__summoned_at__isnull=False) | Q(sip__initiated_by_unit=unit))
        .exclude(sip__status=Sip.Status.CLOSED)
        .annotate(ib_follow_up=Subquery(follow_up))
    )
    if only_new:
        qs = qs.filter(acknowledged_at__isnull=True)
    if search is not None:
        qs = qs.filter(search("sip__person__"))
    tier = inbox.make_tier(
        When(
            Q(ib_follow_up__lt=today)
            | (summons_open & Q(sip__case__sip_summons_due_at__lt=statements.moment(now))),
            then=0,
        ),
        When(
            Q(ib_follow_up__lt=soon_day)
            | (summons_open & Q(sip__case__sip_summons_due_at__lt=statements.moment(now, SUMMONS_DUE_SOON))),
            then=1,
        ),
        When(acknowledged_at__isnull=True, then=2),
    )
    due = DbCase(
        When(summons_open, then=F("sip__case__sip_summons_due_at")),
        default=Value(None, output_field=DateTimeField()),
        output_field=DateTimeField(),
    )
    return inbox.columns(qs, "sip", tier, due, F("sip__last_event_at"), only_urgent)


def care_request_inbox_source(
    unit: Unit,
    now: dt.datetime,
    *,
    only_new: bool = False,
    only_urgent: bool = False,
    search: Search | None = None,
) -> QuerySet[Any]:
    """The care requests the unit must answer (sent to it) or supplement (it was asked), as inbox columns."""
    incoming = Q(to_unit=unit, status=CareRequest.Status.SENT)
    qs = CareRequest.objects.filter(incoming | Q(from_unit=unit, status=CareRequest.Status.NEEDS_INFO))
    if only_new:
        qs = qs.filter(incoming, opened_at__isnull=True)
    if search is not None:
        qs = qs.filter(search("person__"))
    qs = qs.annotate(ib_clock=Coalesce("awaiting_since", "sent_at"))
    deadline = rules.care_request_answer_deadline()
    # The clock's values as ``at_run`` values: the inbox compiles this once per unit and view (ADR 0704).
    overdue_since = statements.moment(now, lambda: -rules.care_request_answer_deadline())
    soon_since = statements.moment(now, lambda: CARE_REQUEST_DUE_SOON - rules.care_request_answer_deadline())
    tier = inbox.make_tier(
        When(incoming & Q(ib_clock__lt=overdue_since), then=0),
        When(incoming & Q(ib_clock__lt=soon_since), then=1),
        When(incoming & Q(opened_at__isnull=True), then=2),
    )
    due = DbCase(
        When(incoming, then=ExpressionWrapper(F("ib_clock") + Value(deadline), output_field=DateTimeField())),
        default=Value(None, output_field=DateTimeField()),
        output_field=DateTimeField(),
    )
    return inbox.columns(qs, "care_request", tier, due, F("last_event_at"), only_urgent)


def combine(parts: list[QuerySet[Any]]) -> QuerySet[Any]:
    """One ordered queryset of inbox columns from the kinds' sources (UNION ALL when more than one)."""
    return inbox.combine(parts, SipParticipant.objects.none())


def items_for(unit: Unit, now: dt.datetime, entries: list[dict[str, Any]]) -> dict[tuple[str, int], Any]:
    """The SIP and care-request inbox items for inbox column rows, keyed by (kind, row): two queries for the
    SIP rows (with their follow-ups) and one for the care requests, whatever the number of rows."""
    sip_rows = [e["ib_row"] for e in entries if e["ib_kind"] == "sip"]
    request_rows = [e["ib_row"] for e in entries if e["ib_kind"] == "care_request"]
    found: dict[tuple[str, int], Any] = {}
    if sip_rows:
        for participant in (
            SipParticipant.objects.filter(pk__in=sip_rows)
            .select_related("sip__person", "sip__case")
            .prefetch_related("sip__follow_ups")
        ):
            found[("sip", participant.pk)] = (_sip_item(participant.sip, participant, unit, now), participant)
    if request_rows:
        for request in CareRequest.objects.filter(pk__in=request_rows).select_related("person"):
            found[("care_request", request.pk)] = (_care_request_item(request, unit, now), None)
    return found


def inbox_items(unit: Unit, now: dt.datetime | None = None, limit: int | None = None) -> list[InboxItem]:
    """The SIPs and care requests that concern the unit and need attention or are under way, from the same
    database source as the unit inbox (``brygga.inbox.selectors.inbox_page``) and in its order: overdue and
    due-soon follow-ups and summons deadlines first, then new, then the rest. No access-log entry is written
    here (there is no actor): the caller that shows the items logs them, as one list read
    (``brygga.access.services.log_list_access``). Need-to-know: only persons the unit is involved with, and a
    planned participant sees a SIP only once it has been summoned."""
    now = now or timezone.now()

    def build(unit_id: int) -> QuerySet[Any]:
        # The sources use the unit in their filters only: a unit of that id stands for it.
        same = Unit(pk=unit_id)
        source = combine([sip_inbox_source(same, now), care_request_inbox_source(same, now)])
        return source[:limit] if limit else source

    # The same text for every unit: compiled once per process and limit (ADR 0707).
    entries = statements.reused(
        ("inbox_items", limit, rules.care_request_answer_deadline()), build, now=now, unit_id=unit.pk
    )
    found = items_for(unit, now, entries)
    return [found[(e["ib_kind"], e["ib_row"])][0] for e in entries if (e["ib_kind"], e["ib_row"]) in found]


def sips_for_unit(unit: Unit, include_closed: bool = False) -> list[Sip]:
    now = timezone.now()

    def build(unit_id: int) -> QuerySet[Sip]:
        qs = (
            Sip.objects.filter(
                participants__unit_id=unit_id, person_id__in=involved_person_ids(Unit(pk=unit_id), now)
            )
            .filter(Q(summoned_at__isnull=False) | Q(initiated_by_unit_id=unit_id))
            .select_related("person", "initiated_by_unit")
        )
        if not include_closed:
            qs = qs.exclude(status=Sip.Status.CLOSED)
        return qs.distinct().order_by("-last_event_at", "-id")[:200]

    # Compiled once per process (ADR 0707).
    return statements.reused(("sips_for_unit", include_closed), build, now=now, unit_id=unit.pk)


def care_requests_for_unit(unit: Unit, include_closed: bool = False) -> list[CareRequest]:
    now = timezone.now()

    def build(unit_id: int) -> QuerySet[CareRequest]:
        qs = CareRequest.objects.filter(
            Q(from_unit_id=unit_id) | Q(to_unit_id=unit_id),
            person_id__in=involved_person_ids(Unit(pk=unit_id), now),
        ).select_related("person", "from_unit", "to_unit")
        if not include_closed:
            qs = qs.filter(
                status__in=[
                    CareRequest.Status.SENT,
                    CareRequest.Status.NEEDS_INFO,
                    CareRequest.Status.ACCEPTED,
                ]
            )
        return qs.order_by("-sent_at", "-id")[:200]

    # Compiled once per process (ADR 0707).
    return statements.reused(("care_requests_for_unit", include_closed), build, now=now, unit_id=unit.pk)


def open_follow_ups(sip: Sip) -> list[FollowUp]:
    return list(sip.follow_ups.filter(done_at__isnull=True).select_related("responsible_unit"))


# --- for the pages and the API: what belongs to a person already opened through the checked path -----------
# The caller has opened the person (``open_person``: need-to-know checked, the read logged); these narrow to
# that person, so an id of another person's case or SIP is simply not found.


def case_of_person(person: Person, case_id: int | str | None) -> Case | None:
    pk = int(str(case_id)) if str(case_id or "").isdecimal() else 0
    return Case.objects.filter(pk=pk, person=person).first() if pk else None


def sip_of_person(person: Person, sip_id: int | str | None) -> Sip | None:
    pk = int(str(sip_id)) if str(sip_id or "").isdecimal() else 0
    return Sip.objects.filter(pk=pk, person=person).first() if pk else None


def unit_cases_of_person(person: Person, unit: Unit | None) -> QuerySet[Case]:
    """The person's cases the unit takes part in."""
    return Case.objects.filter(person=person, participants__unit=unit).distinct()


def unit_sips_of_person(person: Person, unit: Unit | None) -> QuerySet[Sip]:
    """The person's SIPs the unit takes part in."""
    return Sip.objects.filter(person=person, participants__unit=unit)


def sip_for_answer(sip: Sip) -> Sip:
    """The SIP the caller has just opened or written, read again with what an API answer shows."""
    return Sip.objects.select_related("person", "initiated_by_unit").get(pk=sip.pk)
