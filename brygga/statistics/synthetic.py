"""Synthetic stays for the statistics benchmark and an opt-in demo: persons, cases, events and meetings with
realistic proportions, written with bulk inserts (COPY on PostgreSQL, bulk_create elsewhere). The persons
are reserve numbers named "Syntetisk Person"; no unit is involved in them, so no clinical user sees them.

Proportions (assumptions, not measured): notice within 24 h 93 %, late 5 %, missing 2 %; 0–3 expected-date
moves; discharge-ready in 88 % of stays, withdrawn and set again in 4 %; SIP needed in 30 % with summons on
time in 80 %; a meeting in 40 % (video 35 %, phone 25 %, on site 40 %); 2 % die, 1 % are cancelled.

With ``participants=True`` (the 1,000,000-case benchmark, bench/cases_dataset.py) every stay also gets the
units that take part, as the services would have written them: the ward (sender), and after the admission
notice the municipality's contact point and, for 85 % of persons, a vårdcentral of the municipality
(recipients named in the notice event, as the payment adapter reads them), each with its Involvement (ended
when the case closed) and an acknowledgement state: closed stays acknowledged; open stays acknowledged by 70 %
of the receivers within hours (an ``acknowledged`` event), the rest waiting since the latest event (some past
the escalation limit). With ``until`` the admissions run up to that moment and an open stay carries nothing
that lies after it (no future discharge-ready, summons, notice or booking)."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from brygga.access.models import Involvement
from brygga.accounts.models import User
from brygga.cases import rules
from brygga.cases.models import Case, CaseEvent, Meeting, Participant
from brygga.cases.rules import EXPECTED_DATE_REASONS
from brygga.organisations.models import Municipality, PopulationFigure, Unit
from brygga.people.models import Person

K = CaseEvent.Kind
REASONS = list(EXPECTED_DATE_REASONS)
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)

SYNTHETIC_USERNAME = "syntetisk-statistik"  # who "wrote" the synthetic events; its existence marks them
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
PARTICIPANT_COLS = [
    "case_id", "unit_id", "role", "addressing", "status", "added_at", "rejected_reason", "rejected_text",
    "needs_ack", "unacked_since", "acknowledged_at", "acknowledged_by_id",
]  # fmt: skip
INVOLVEMENT_COLS = ["person_id", "unit_id", "kind", "source", "started_at", "ended_at"]


@dataclass
class Batch:
    persons: list[tuple] = field(default_factory=list)
    cases: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    meetings: list[tuple] = field(default_factory=list)
    participants: list[tuple] = field(default_factory=list)
    involvements: list[tuple] = field(default_factory=list)


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value else None


class Generator:
    def __init__(
        self,
        first_month: dt.date,
        months: int,
        seed: int = 2026,
        *,
        until: dt.datetime | None = None,
        participants: bool = False,
    ) -> None:
        self.rng = random.Random(seed)
        self.start = timezone.make_aware(dt.datetime.combine(first_month, dt.time()))
        end_month = first_month
        for _m in range(months):
            end_month = (end_month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        self.span = timezone.make_aware(dt.datetime.combine(end_month, dt.time())) - self.start
        self.trim = until is not None
        if until is not None:
            self.span = until - self.start
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
            username=SYNTHETIC_USERNAME, defaults={"first_name": "Syntetisk", "last_name": "Användare"}
        )
        self.now = until or timezone.now()
        self.participants = participants
        if participants:
            units = Unit.objects.filter(is_active=True).order_by("pk")
            self.unit_ref = {
                pk: {"id": pk, "hsa_id": hsa, "name": name}
                for pk, hsa, name in units.values_list("pk", "hsa_id", "name")
            }
            self.contact: dict[int, int] = {}
            self.primary: dict[int, list[int]] = {}
            for pk, kind, municipality in units.values_list("pk", "kind", "municipality_id"):
                if kind == Unit.Kind.MUNICIPAL_CONTACT:
                    self.contact.setdefault(municipality, pk)
                elif kind == Unit.Kind.PRIMARY_CARE:
                    self.primary.setdefault(municipality, []).append(pk)
            self.ack_limit = rules.acknowledgement_deadline()

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
        notice_data: dict[str, Any] = {"late": late}
        if notice_at:
            ev.append((K.ADMISSION_NOTICE_SENT, notice_at, notice_data))
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
        meeting: tuple | None = None
        if ready_at:
            ev.append((K.DISCHARGE_READY_SET, ready_at, {"sip_needed": sip_needed}))
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
            meeting = (case_id, form, starts, "Avdelningen", "", "", user, starts - D)
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
        if self.trim and status == Case.Status.ADMITTED:
            # Still in hospital now: nothing that lies in the future has happened yet.
            now = self.now
            ev = [e for e in ev if e[1] <= now]
            if notice_at and notice_at > now:
                notice_at, late = None, False
            if ready_at and ready_at > now:
                ready_at, sip_needed, sip_due, sip_sent = None, False, None, None
            if sip_sent and sip_sent > now:
                sip_sent = None
            if meeting and meeting[-1] > now:
                meeting = None
        if meeting:
            out.meetings.append(meeting)
        if self.participants:
            self._participants(
                case_id,
                person_id,
                municipality,
                ward,
                admitted,
                notice_at,
                status,
                closed,
                ev,
                notice_data,
                out,
            )
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
            # An acknowledgement is recorded by the receiving unit; everything else here by the ward.
            by = data["unit"]["id"] if kind == K.ACKNOWLEDGED else ward
            out.events.append((case_id, kind, at, at, user, by, data))

    def _participants(
        self,
        case_id: int,
        person_id: int,
        municipality: int,
        ward: int,
        admitted: dt.datetime,
        notice_at: dt.datetime | None,
        status: str,
        closed: dt.datetime | None,
        ev: list[tuple[str, dt.datetime, dict[str, Any]]],
        notice_data: dict[str, Any],
        out: Batch,
    ) -> None:
        """The ward, and after the notice the contact point and a vårdcentral, as the services write them."""
        rng, user, source = self.rng, self.user.pk, f"case:{case_id}"
        is_open = status == Case.Status.ADMITTED
        last = ev[-1][1]
        out.participants.append(
            (case_id, ward, "ward", "sender", "active", admitted, "", "", False, None, None, None)
        )
        out.involvements.append((person_id, ward, "inpatient_case", source, admitted, closed))
        if notice_at is None:
            return
        receivers = []
        if municipality in self.contact:
            receivers.append((self.contact[municipality], "municipality"))
        if self.primary.get(municipality) and rng.random() < 0.85:
            receivers.append((rng.choice(self.primary[municipality]), "primary_care"))
        notice_data["recipients"] = [{**self.unit_ref[u], "addressing": "automatic"} for u, _r in receivers]
        for unit, role in receivers:
            needs_ack, since, acked = False, None, None
            if is_open and rng.random() < 0.3:
                needs_ack = True
                since = max(notice_at, last - H * rng.uniform(0, 2 * self.ack_limit / H))
            else:
                acked = notice_at + H * rng.uniform(0.1, 8)
                acked = min(acked, closed or acked, self.now)
                ev.append((K.ACKNOWLEDGED, acked, {"unit": self.unit_ref[unit]}))
            out.participants.append(
                (case_id, unit, role, "automatic", "active", notice_at, "", "", needs_ack, since, acked,
                 None if acked is None else user)
            )  # fmt: skip
            out.involvements.append((person_id, unit, "inpatient_case", source, notice_at, closed))


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
    Participant.objects.bulk_create(
        [Participant(**dict(zip(PARTICIPANT_COLS, r, strict=True))) for r in batch.participants]
    )
    Involvement.objects.bulk_create(
        [Involvement(**dict(zip(INVOLVEMENT_COLS, r, strict=True))) for r in batch.involvements]
    )


def _reset_sequences() -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in ("people_person", "cases_case"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"  # noqa: S608
            )


def generate(
    n: int,
    first_month: dt.date,
    months: int = 12,
    seed: int = 2026,
    chunk: int = 20_000,
    *,
    until: dt.datetime | None = None,
    participants: bool = False,
    progress: Callable[[dict[str, int]], None] | None = None,
) -> dict:
    """Write n synthetic stays admitted over ``months`` months from ``first_month`` (or from then ``until`` a
    moment); returns row counts. Each chunk is its own transaction, so an interrupted run keeps whole chunks
    and a later call adds to them (``progress`` is called after each chunk with the counts so far)."""
    gen = Generator(first_month, months, seed, until=until, participants=participants)
    person_id, case_id = _next_id("people_person"), _next_id("cases_case")
    counts = {"cases": 0, "events": 0, "meetings": 0, "participants": 0, "involvements": 0}
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
                _copy("cases_participant", PARTICIPANT_COLS, batch.participants)
                _copy("access_involvement", INVOLVEMENT_COLS, batch.involvements)
            else:
                _bulk_create(batch)
        counts["cases"] += len(batch.cases)
        counts["events"] += len(batch.events)
        counts["meetings"] += len(batch.meetings)
        counts["participants"] += len(batch.participants)
        counts["involvements"] += len(batch.involvements)
        if progress:
            progress(counts)
    _reset_sequences()
    return counts
