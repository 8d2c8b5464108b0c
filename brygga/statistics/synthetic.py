"""Synthetic stays for the statistics benchmark and an opt-in demo: persons, cases, events and meetings with
realistic proportions, written with bulk inserts (COPY on PostgreSQL, bulk_create elsewhere). The persons
are reserve numbers named "Syntetisk Person"; no unit is involved in them, so no clinical user sees them.

Proportions (assumptions, not measured): notice within 24 h 93 %, late 5 %, missing 2 %; 0–3 expected-date
moves; discharge-ready in 88 % of stays, withdrawn and set again in 4 %; SIP needed in 30 % with summons on
time in 80 %; a meeting in 40 % (video 35 %, phone 25 %, on site 40 %); 2 % die, 1 % are cancelled."""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from brygga.accounts.models import User
from brygga.cases.models import Case, CaseEvent, Meeting
from brygga.cases.rules import EXPECTED_DATE_REASONS
from brygga.organisations.models import Municipality, PopulationFigure, Unit
from brygga.people.models import Person

K = CaseEvent.Kind
REASONS = list(EXPECTED_DATE_REASONS)
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)

PERSON_COLS = [
    "id", "identifier", "id_kind", "given_name", "family_name", "street_address", "postal_code", "city",
    "registered_municipality_id", "protected_identity", "created_at", "updated_at",
]  # fmt: skip
CASE_COLS = [
    "id", "person_id", "municipality_id", "ward_id", "site_id", "care_type", "status", "external_id",
    "admitted_at", "need_assessed_at", "notice_sent_at", "notice_late", "expected_discharge_date",
    "discharge_ready_at", "sip_needed", "sip_summons_due_at", "sip_summons_sent_at", "coordinator_name",
    "coordinator_phone", "discharge_info_sent_at", "patient_summary_given_at", "discharged_at",
    "discharge_notice_sent_at", "closed_at", "checklist", "created_at", "last_event_at",
]  # fmt: skip
EVENT_COLS = ["case_id", "kind", "occurred_at", "recorded_at", "user_id", "unit_id", "data"]
MEETING_COLS = [
    "case_id", "form", "starts_at", "location", "video_link", "note", "booked_by_id", "booked_at",
]  # fmt: skip


@dataclass
class Batch:
    persons: list[tuple] = field(default_factory=list)
    cases: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    meetings: list[tuple] = field(default_factory=list)


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value else None


class Generator:
    def __init__(self, first_month: dt.date, months: int, seed: int = 2026) -> None:
        self.rng = random.Random(seed)
        self.start = timezone.make_aware(dt.datetime.combine(first_month, dt.time()))
        end_month = first_month
        for _m in range(months):
            end_month = (end_month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        self.span = timezone.make_aware(dt.datetime.combine(end_month, dt.time())) - self.start
        # Latest year wins: the rows come oldest first.
        population = dict(
            PopulationFigure.objects.order_by("year").values_list("municipality_id", "population")
        )
        self.municipalities = list(Municipality.objects.values_list("pk", flat=True))
        self.weights = [population.get(pk, 10_000) for pk in self.municipalities]
        wards = Unit.objects.filter(kind=Unit.Kind.WARD, site__isnull=False)
        self.wards = list(wards.values_list("pk", "site_id"))
        # Most stays are at a hospital in the patient's own delregion.
        by_subregion: dict[int, list[tuple[int, int]]] = {}
        for pk, site, sub in wards.values_list("pk", "site_id", "site__municipality__subregion_id"):
            by_subregion.setdefault(sub, []).append((pk, site))
        subregion_of = dict(Municipality.objects.values_list("pk", "subregion_id"))
        self.near = {m: by_subregion.get(subregion_of[m], self.wards) for m in self.municipalities}
        self.user, _created = User.objects.get_or_create(
            username="syntetisk-statistik", defaults={"first_name": "Syntetisk", "last_name": "Användare"}
        )
        self.now = timezone.now()

    def stay(self, case_id: int, person_id: int, out: Batch) -> None:
        rng, user = self.rng, self.user.pk
        municipality = rng.choices(self.municipalities, self.weights)[0]
        ward, site = rng.choice(self.near[municipality] if rng.random() < 0.8 else self.wards)
        admitted = self.start + self.span * rng.random()
        ev: list[tuple[str, dt.datetime, dict[str, Any]]] = [(K.ADMITTED, admitted, {})]
        roll = rng.random()
        assessed = admitted if roll < 0.9 else (admitted + D * rng.uniform(0.5, 3) if roll < 0.95 else None)
        notice_at, late = None, False
        if assessed is not None:
            r = rng.random()
            if r < 0.93:
                notice_at = assessed + H * rng.uniform(0.2, 23.5)
            elif r < 0.98:
                notice_at, late = assessed + H * rng.uniform(24.5, 72), True
        if notice_at:
            ev.append((K.ADMISSION_NOTICE_SENT, notice_at, {"late": late}))
        stay_days = max(1, int(rng.gammavariate(2.0, 3.5)))
        ready_at = admitted + D * stay_days + H * rng.uniform(0, 8) if rng.random() < 0.88 else None
        wait = int(rng.expovariate(1 / 2.5)) if ready_at else 0
        end = (ready_at or admitted + D * stay_days) + D * wait + H * rng.uniform(0, 6)
        expected = (admitted + D * rng.randint(3, 10)).date()
        for _move in range(rng.choices((0, 1, 2, 3), (60, 25, 10, 5))[0]):
            new = expected + D * rng.choice((-3, -2, -1, 1, 2, 3, 4, 5, 7))
            if new < admitted.date():
                continue
            moved_at = admitted + (end - admitted) * rng.uniform(0.1, 0.9)
            ev.append(
                (
                    K.EXPECTED_DATE_CHANGED,
                    moved_at,
                    {"old": _iso(expected), "new": _iso(new), "reason": rng.choice(REASONS), "comment": ""},
                )
            )
            expected = new
        if ready_at and rng.random() < 0.04:
            first_ready = ready_at - D * rng.uniform(1, 3)
            if first_ready > admitted:
                ev.append((K.DISCHARGE_READY_SET, first_ready, {}))
                ev.append((K.DISCHARGE_READY_WITHDRAWN, first_ready + H * 12, {"reason": "Försämring"}))
        sip_needed = ready_at is not None and rng.random() < 0.3
        sip_due = ready_at + 3 * D if sip_needed and ready_at else None
        sip_sent = None
        if ready_at:
            ev.append((K.DISCHARGE_READY_SET, ready_at, {}))
        if sip_due and ready_at:
            r = rng.random()
            if r < 0.8:
                sip_sent = ready_at + D * rng.uniform(0, 2.9)
            elif r < 0.95:
                sip_sent = ready_at + D * rng.uniform(3.1, 7)
            if sip_sent:
                ev.append((K.SIP_SUMMONS_SENT, sip_sent, {"on_time": sip_sent <= sip_due}))
        if rng.random() < 0.4:
            form = rng.choices(("video", "phone", "on_site"), (35, 25, 40))[0]
            starts = admitted + (end - admitted) * rng.uniform(0.3, 0.9)
            out.meetings.append((case_id, form, starts, "Avdelningen", "", "", user, starts - D))
            ev.append((K.MEETING_BOOKED, starts - D, {"form": form}))
        fate = rng.random()
        status, discharged, closed = Case.Status.CLOSED, None, None
        if end > self.now:
            status = Case.Status.ADMITTED
        elif fate < 0.01:
            status = Case.Status.CLOSED
            ev.append((K.CANCELLED, admitted + H * 2, {"reason": "entered_in_error"}))
            closed = admitted + H * 3
            ev.append((K.CLOSED, closed, {"from_status": "cancelled", "without_discharge_ready": True,
                                          "without_discharge_notice": True}))  # fmt: skip
        elif fate < 0.03:
            ev.append((K.DIED, end, {}))
            closed = end + H
            ev.append((K.CLOSED, closed, {"from_status": "died", "without_discharge_ready": ready_at is None,
                                          "without_discharge_notice": True}))  # fmt: skip
        else:
            discharged = end
            ev.append((K.DISCHARGED, end, {}))
            ev.append((K.DISCHARGE_NOTICE_SENT, end, {}))
            if end + D < self.now:
                closed = end + H * 2
                ev.append((K.CLOSED, closed, {"from_status": "discharged",
                                              "without_discharge_ready": ready_at is None,
                                              "without_discharge_notice": False}))  # fmt: skip
            else:
                status = Case.Status.DISCHARGED
        ev.sort(key=lambda e: e[1])
        out.persons.append(
            (person_id, f"R{person_id:013d}", "reservnummer", "Syntetisk", "Person", "", "", "", municipality,
             False, admitted, admitted)
        )  # fmt: skip
        out.cases.append(
            (case_id, person_id, municipality, ward, site, "somatic", status, "", admitted, assessed,
             notice_at, late, expected, ready_at, sip_needed, sip_due, sip_sent, "", "", discharged,
             discharged, discharged, discharged, closed, "{}", admitted, ev[-1][1])
        )  # fmt: skip
        for kind, at, data in ev:
            out.events.append((case_id, kind, at, at, user, ward, data))


def _next_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608 — fixed table names
        return int(cursor.fetchone()[0])


def _copy(table: str, cols: list[str], rows: list[tuple]) -> None:
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(v) if isinstance(v, dict) else v for v in row])


def _bulk_create(batch: Batch) -> None:
    Person.objects.bulk_create([Person(**dict(zip(PERSON_COLS, r, strict=True))) for r in batch.persons])
    cases = []
    for r in batch.cases:
        values = dict(zip(CASE_COLS, r, strict=True))
        values["checklist"] = {}
        cases.append(Case(**values))
    Case.objects.bulk_create(cases)
    CaseEvent.objects.bulk_create([CaseEvent(**dict(zip(EVENT_COLS, r, strict=True))) for r in batch.events])
    Meeting.objects.bulk_create([Meeting(**dict(zip(MEETING_COLS, r, strict=True))) for r in batch.meetings])


def _reset_sequences() -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in ("people_person", "cases_case"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"  # noqa: S608
            )


def generate(n: int, first_month: dt.date, months: int = 12, seed: int = 2026, chunk: int = 20_000) -> dict:
    """Write n synthetic stays admitted over ``months`` months from ``first_month``; returns row counts."""
    gen = Generator(first_month, months, seed)
    person_id, case_id = _next_id("people_person"), _next_id("cases_case")
    counts = {"cases": 0, "events": 0, "meetings": 0}
    for offset in range(0, n, chunk):
        batch = Batch()
        for i in range(min(chunk, n - offset)):
            gen.stay(case_id + offset + i, person_id + offset + i, batch)
        with transaction.atomic():
            if connection.vendor == "postgresql":
                _copy("people_person", PERSON_COLS, batch.persons)
                _copy("cases_case", CASE_COLS, batch.cases)
                _copy("cases_caseevent", EVENT_COLS, batch.events)
                _copy("cases_meeting", MEETING_COLS, batch.meetings)
            else:
                _bulk_create(batch)
        counts["cases"] += len(batch.cases)
        counts["events"] += len(batch.events)
        counts["meetings"] += len(batch.meetings)
    _reset_sequences()
    return counts
