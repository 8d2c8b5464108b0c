"""A case as the payment rules see it: the fields of ``payment``'s StayFacts input, read from the case row
and its events with corrections and cancellations applied (ADR 0101). Plain data, so the cases app does not
import the payment app; ``StayFacts.from_dict(stay_facts_fields(case))`` builds the engine's input.

Two ways in, one mapping (``facts_from_rows``):

* ``stay_facts_fields(case)``: one case, two queries (its events and its municipal participants);
* ``iter_stay_facts_fields(cases)``: any number of cases streamed in chunks (``iterator(chunk_size=...)``),
  with the payment events and the municipal participants of each chunk read in bulk: 1 + 2 queries per
  chunk, never one per case, and memory bounded by the chunk size. It reads plain rows (``values_list``),
  not model instances (building them was a large part of the adapter's time; ADR 0202).

``payment_cases(...)`` chooses the cases a month's settlement needs (docs/payment.md)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any, NamedTuple

from django.db.models import F, Q, QuerySet

from brygga.cases.models import Case, CaseEvent, Participant
from brygga.core.bulk import id_set, parse_utc, utc_text

Kind = CaseEvent.Kind

# The only event kinds the mapping reads. Everything else (messages, acknowledgements, planning, leave,
# transfers, discharge and closing events: the row carries the discharge time with corrections applied) does
# not change payment, so the bulk path does not fetch it.
PAYMENT_EVENT_KINDS = (
    Kind.ADMISSION_NOTICE_SENT,
    Kind.DISCHARGE_READY_SET,
    Kind.DISCHARGE_READY_WITHDRAWN,
    Kind.DIED,
    Kind.CANCELLED,
    Kind.NOTICE_CANCELLED,
)


class CaseRow(NamedTuple):
    """The columns of a case the mapping reads."""

    pk: int
    municipality_code: str | None
    ward_name: str
    care_type: str
    status: str
    admitted_at: dt.datetime
    discharged_at: dt.datetime | None
    sip_needed: bool
    sip_summons_sent_at: dt.datetime | None
    municipality_id: int | None

    @classmethod
    def of(cls, case: Case) -> CaseRow:
        return cls(
            case.pk,
            case.municipality.scb_code if case.municipality else None,
            case.ward.name,
            case.care_type,
            case.status,
            case.admitted_at,
            case.discharged_at,
            case.sip_needed,
            case.sip_summons_sent_at,
            case.municipality_id,
        )


class EventRow(NamedTuple):
    pk: int
    kind: str
    occurred_at: dt.datetime
    data: dict[str, Any]


CASE_COLUMNS = (
    "id",
    "municipality__scb_code",
    "ward__name",
    "care_type",
    "status",
    "admitted_at",
    "discharged_at",
    "sip_needed",
    "sip_summons_sent_at",
    "municipality_id",
)
EVENT_COLUMNS = ("id", "kind", "occurred_at", "data")
CASE_TIMESTAMPS = ("admitted_at", "discharged_at", "sip_summons_sent_at")
_TEXT_CASE_COLUMNS = tuple(f"{c}_text" if c in CASE_TIMESTAMPS else c for c in CASE_COLUMNS)


def _voided_ids(events: Iterable[EventRow]) -> set[int]:
    voided: set[int] = set()
    for event in events:
        if event.kind == Kind.NOTICE_CANCELLED:
            voided.add(int(event.data.get("target_event", 0)))
            voided.update(int(v) for v in event.data.get("voids", []) if v)
    return voided


def _municipal_participants() -> QuerySet[Participant]:
    """Active municipal receivers belonging to the case's own municipality (not rejected, R-INS-7)."""
    return Participant.objects.filter(
        status=Participant.Status.ACTIVE,
        role=Participant.Role.MUNICIPALITY,
        unit__municipality_id=F("case__municipality_id"),
    )


def facts_from_rows(
    case: CaseRow, events: Iterable[EventRow], municipal_units: set[int]
) -> dict[str, Any] | None:
    """The mapping itself, over rows already read: the case, its events in (occurred_at, id) order — at
    least the ``PAYMENT_EVENT_KINDS`` — and the ids of its active municipal receiving units. No queries. None
    for a case without a municipality in Västra Götaland."""
    if case.municipality_code is None:
        return None
    events = list(events)
    voided = _voided_ids(events)
    live = [e for e in events if e.pk not in voided]
    notice_at = next(
        (
            e.occurred_at
            for e in live
            if e.kind == Kind.ADMISSION_NOTICE_SENT
            and any(r.get("id") in municipal_units for r in e.data.get("recipients", []))
        ),
        None,
    )
    periods: list[dict[str, Any]] = []
    latest_set: EventRow | None = None
    for event in live:
        if event.kind == Kind.DISCHARGE_READY_SET:
            periods.append({"set_at": event.occurred_at, "withdrawn_at": None})
            latest_set = event
        elif event.kind == Kind.DISCHARGE_READY_WITHDRAWN and periods and periods[-1]["withdrawn_at"] is None:
            periods[-1]["withdrawn_at"] = event.occurred_at
    died = next((e.occurred_at for e in live if e.kind == Kind.DIED), None)
    return {
        "case_reference": str(case.pk),
        "municipality_code": case.municipality_code,
        "care_type": case.care_type,
        "admitted_at": case.admitted_at,  # the row carries corrections (notice_corrected)
        "admission_notice_sent_at": notice_at,
        "discharge_ready": periods,
        "discharge_ready_notice_sent_at": latest_set.occurred_at if latest_set else None,
        "discharged_at": case.discharged_at or died,  # the row drops a voided discharge
        "sip_needed": bool(latest_set.data.get("sip_needed", case.sip_needed))
        if latest_set
        else case.sip_needed,
        "sip_summons_sent_at": case.sip_summons_sent_at,
        "cancelled": case.status == Case.Status.CANCELLED or any(e.kind == Kind.CANCELLED for e in events),
        "ward": case.ward_name,
    }


def _payment_events(case_ids: list[int]) -> QuerySet[CaseEvent]:
    return CaseEvent.objects.filter(case_id__in=case_ids, kind__in=PAYMENT_EVENT_KINDS).order_by(
        "case_id", "occurred_at", "id"
    )


def stay_facts_fields(case: Case) -> dict[str, Any] | None:
    """One case (two queries). None for a case without a municipality in Västra Götaland."""
    if case.municipality is None:
        return None
    events = [EventRow(*row) for row in _payment_events([case.pk]).values_list(*EVENT_COLUMNS)]
    units = set(_municipal_participants().filter(case=case).values_list("unit_id", flat=True))
    return facts_from_rows(CaseRow.of(case), events, units)


def _case_row(values: tuple[Any, ...]) -> CaseRow:
    """A CaseRow from ``_TEXT_CASE_COLUMNS`` (timestamps as text)."""
    pk, code, ward, care_type, status, admitted, discharged, sip_needed, summoned, municipality_id = values
    admitted_at = parse_utc(admitted)
    assert admitted_at is not None  # the column is NOT NULL
    return CaseRow(
        pk,
        code,
        ward,
        care_type,
        status,
        admitted_at,
        parse_utc(discharged),
        sip_needed,
        parse_utc(summoned),
        municipality_id,
    )


def bulk_queries(
    cases: QuerySet[Case],
) -> tuple[
    QuerySet[Case, tuple[Any, ...]], Callable[[list[int]], tuple[QuerySet[Any, tuple[Any, ...]], ...]]
]:
    """The queries of the bulk read, without the mapping (the settlement benchmark times them alone): the
    cases' ``_TEXT_CASE_COLUMNS``, and for a chunk of case ids their payment events in order
    (case_id, id, kind, occurred_at as text, data) and their active municipal participants (case_id, unit_id,
    the unit's municipality_id). The chunk's ids go to the database as one parameter and the timestamps are
    read as text (``brygga.core.bulk``: both cost more than the queries themselves did; ADR 0203)."""
    case_rows = (
        cases.filter(municipality__isnull=False)
        .annotate(**{f"{name}_text": utc_text(name) for name in CASE_TIMESTAMPS})
        .values_list(*_TEXT_CASE_COLUMNS)
    )

    def per_chunk(case_ids: list[int]) -> tuple[QuerySet[Any, tuple[Any, ...]], ...]:
        ids = id_set(case_ids)
        events = (
            CaseEvent.objects.filter(case_id__in=ids, kind__in=PAYMENT_EVENT_KINDS)
            .order_by("case_id", "occurred_at", "id")
            .annotate(occurred_at_text=utc_text("occurred_at"))
            .values_list("case_id", "id", "kind", "occurred_at_text", "data")
        )
        # The receiving units' municipality is compared in Python rather than in SQL: the join back to the
        # cases table that F("case__municipality_id") needs made this query the slowest of the three.
        participants = Participant.objects.filter(
            case_id__in=ids, status=Participant.Status.ACTIVE, role=Participant.Role.MUNICIPALITY
        ).values_list("case_id", "unit_id", "unit__municipality_id")
        return events, participants

    return case_rows, per_chunk


def iter_stay_facts_fields(cases: QuerySet[Case], chunk_size: int = 2000) -> Iterator[dict[str, Any]]:
    """Stream the facts of every case in ``cases`` (its ordering is kept): per chunk of ``chunk_size`` cases
    one fetch of the cases' columns and two bulk reads (``bulk_queries``)."""
    case_rows, per_chunk = bulk_queries(cases)
    rows = (_case_row(values) for values in case_rows.iterator(chunk_size=chunk_size))
    while chunk := list(islice(rows, chunk_size)):
        event_rows, participant_rows = per_chunk([c.pk for c in chunk])
        events: dict[int, list[EventRow]] = defaultdict(list)
        for case_id, pk, kind, occurred_at, data in event_rows:
            events[case_id].append(EventRow(pk, kind, parse_utc(occurred_at), data))  # type: ignore[arg-type]
        municipality = {c.pk: c.municipality_id for c in chunk}
        units: dict[int, set[int]] = defaultdict(set)
        for case_id, unit_id, unit_municipality in participant_rows:
            if unit_municipality == municipality[case_id]:
                units[case_id].add(unit_id)
        for case in chunk:
            fields = facts_from_rows(case, events.get(case.pk, ()), units.get(case.pk, set()))
            if fields is not None:
                yield fields


def payment_cases(
    window_start: dt.datetime, end: dt.datetime, municipality_ids: Iterable[int] | None = None
) -> QuerySet[Case]:
    """The cases a settlement may need for the period [window_start, end): a municipality registered, admitted
    before the end, and not discharged before the window (still in hospital, died, or discharged inside it).
    Passing too many is safe (the engine ignores what does not matter); passing too few is not.

    Left out because they can never give a line for the period: cancelled cases (no discharge, no cost),
    cases discharged before the window, and closed cases without a discharge (died, cancelled) that were
    closed before the window. Ordered by municipality, then id, so a caller can settle one municipality at a
    time while streaming."""
    selected = Case.objects.filter(municipality__isnull=False, admitted_at__lt=end).exclude(
        status=Case.Status.CANCELLED
    )
    # Three branches, each an index range on (discharged_at, closed_at), so ten years of closed stays are not
    # read for one month.
    selected = selected.filter(
        Q(discharged_at__gte=window_start)
        | Q(discharged_at__isnull=True, closed_at__isnull=True)
        | Q(discharged_at__isnull=True, closed_at__gte=window_start)
    )
    if municipality_ids is not None:
        selected = selected.filter(municipality_id__in=list(municipality_ids))
    return selected.order_by("municipality_id", "id")
