"""Set-based admission ingest for ``POST /api/v1/cases/batch`` (issue 3 item 12).

A run of ``create`` items is first validated item by item — the same checks and rule codes as
``services.admit`` + ``services.send_admission_notice``, including duplicates inside the batch — and the
valid ones are then written in ONE transaction with one bulk insert per table: cases, participants,
involvements, events, access-log entries (``brygga.access.services.log_accesses``: one entry per person read
or changed, each with its MAC) and idempotency records. An item that fails validation is answered with its
refusal and does not stop the others, as on the per-item path. What the fast path cannot decide alone (a
permission refusal, a key used twice in the batch, a write that hits a unique constraint because a
concurrent request won) falls back to the per-item path, so the answers stay those of ``services``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from brygga.access.models import AccessLogEntry, Involvement
from brygga.access.services import active_involvement_q, involve_many, log_accesses
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.cases import rules, selectors, services
from brygga.cases.models import Case, CaseEvent, Participant
from brygga.cases.services.common import _iso, _unit_ref
from brygga.cases.signals import events_recorded
from brygga.core.errors import DomainError, NotFound, Problem
from brygga.core.idempotency import AnswerShape, jsonable, request_hash
from brygga.core.models import IdempotencyRecord
from brygga.organisations.models import Unit
from brygga.people.identifiers import parse_identity_number
from brygga.people.models import Person

Answer = tuple[int, dict[str, Any]]
Action = AccessLogEntry.Action


@dataclass
class Item:
    """One ``create`` item: its index in the batch, its idempotency key, the parsed CaseIn and its body."""

    index: int
    key: str | None
    data: Any  # brygga.cases.api.CaseIn
    body: dict[str, Any]


@dataclass
class _Plan:
    item: Item
    person: Person
    looked_up_involved: bool
    case: Case
    units: list[Unit]
    addressing: str


def admit_many(
    actor: Actor,
    items: list[Item],
    shape: Callable[[str], AnswerShape],
    message_id: Callable[[Item], str],
    answer_ok: Callable[[str, Case], dict[str, Any]],
    one_by_one: Callable[[Item], Answer],
    fetch: Callable[[list[int]], Any],
) -> dict[int, Answer]:
    """Answer every item (by index). ``one_by_one`` is the per-item path used as the fallback; ``fetch`` reads
    the written cases back with what ``answer_ok`` shows."""
    if not items:
        return {}
    ward = actor.unit
    if (
        ward is None
        or not actor.can(Perm.PERSON_LOOKUP)
        or not actor.can(Perm.CASE_CREATE)
        or ward.kind != Unit.Kind.WARD
        or ward.site_id is None
    ):
        return {i.index: one_by_one(i) for i in items}
    answers: dict[int, Answer] = {}
    todo: list[Item] = []
    fallback: list[Item] = []
    keys = [i.key for i in items if i.key]
    stored = {r.key: r for r in IdempotencyRecord.objects.filter(user=actor.user, unit=ward, key__in=keys)}
    seen: set[str] = set()
    for item in items:
        if item.key and item.key in stored:
            record = stored[item.key]
            answer_shape = shape(message_id(item))
            if record.request_hash != request_hash("create", item.body):
                answers[item.index] = answer_shape.key_conflict()
            else:
                answers[item.index] = (record.status, answer_shape.replayed(dict(record.body)))
        elif item.key and item.key in seen:
            fallback.append(item)  # the same key twice in one batch: the per-item path replays the first
        else:
            if item.key:
                seen.add(item.key)
            todo.append(item)

    now = timezone.now()
    plans, refused = _validate(ward, todo, shape, message_id, now)
    for index, answer in refused.items():
        answers[index] = answer
    if plans:
        try:
            answers.update(_write(actor, ward, plans, message_id, answer_ok, fetch, now))
        except (IntegrityError, OperationalError):
            fallback.extend(p.item for p in plans)
    for item in sorted(fallback, key=lambda i: i.index):
        answers[item.index] = one_by_one(item)
    # Refusals of keyed items are answers too (as in core.idempotency): a retry gets the same refusal.
    records = [
        IdempotencyRecord(
            user=actor.user,
            unit=ward,
            key=item.key,
            request_hash=request_hash("create", item.body),
            status=refused[item.index][0],
            body=jsonable(refused[item.index][1]),
        )
        for item in todo
        if item.key and item.index in refused
    ]
    if records:
        IdempotencyRecord.objects.bulk_create(records, ignore_conflicts=True)
    return answers


def _validate(
    ward: Unit,
    items: list[Item],
    shape: Callable[[str], AnswerShape],
    message_id: Callable[[Item], str],
    now: dt.datetime,
) -> tuple[list[_Plan], dict[int, Answer]]:
    """The checks of ``services.admit`` and ``services.send_admission_notice``, for every item, in a few
    set-based reads; a later item is checked against the earlier valid ones (one open stay per person, one
    external id per ward)."""
    refused: dict[int, Answer] = {}
    numbers: dict[int, str] = {}

    def refuse(item: Item, exc: DomainError | None) -> None:
        s = shape(message_id(item))
        refused[item.index] = s.not_found() if exc is None else s.refused(exc)

    for item in items:
        try:
            numbers[item.index] = parse_identity_number(item.data.identifier).value
        except DomainError as exc:
            refuse(item, exc)
        except NotFound:
            refuse(item, None)
    persons = {
        p.identifier: p
        for p in Person.objects.select_related("registered_municipality", "listed_unit").filter(
            identifier__in=set(numbers.values())
        )
    }
    person_ids = [p.pk for p in persons.values()]
    open_persons = set(
        Case.objects.filter(person_id__in=person_ids, status__in=services.OPEN).values_list(
            "person_id", flat=True
        )
    )
    external = [i.data.external_id for i in items if i.data.external_id]
    taken = set(
        Case.objects.filter(ward=ward, external_id__in=external).values_list("external_id", flat=True)
    )
    involved = set(
        Involvement.objects.filter(active_involvement_q(), unit=ward, person_id__in=person_ids).values_list(
            "person_id", flat=True
        )
    )
    municipalities = {p.registered_municipality_id for p in persons.values() if p.registered_municipality_id}
    contacts: dict[int, Unit] = {}
    for unit in Unit.objects.filter(
        municipality_id__in=municipalities, kind=Unit.Kind.MUNICIPAL_CONTACT, is_active=True
    ):
        contacts.setdefault(unit.municipality_id, unit)  # type: ignore[arg-type]

    plans: list[_Plan] = []
    for item in items:
        if item.index in refused:
            continue
        person = persons.get(numbers[item.index])
        if person is None:
            refuse(item, None)
            continue
        data = item.data
        try:
            problems = _admit_problems(data, person, open_persons, taken, now)
            if problems:
                raise DomainError(problems)
            case = Case(
                person=person,
                municipality=person.registered_municipality,
                ward=ward,
                site=ward.site,
                care_type=data.care_type,
                admitted_at=data.admitted_at,
                need_assessed_at=data.need_assessed_at,
                expected_discharge_date=data.expected_discharge_date,
                external_id=data.external_id,
                last_event_at=now,
            )
            units: list[Unit] = []
            addressing = ""
            if data.send_notice:
                units, addressing = _notice(case, person, data.recipients, contacts, now)
        except DomainError as exc:
            refuse(item, exc)
            continue
        open_persons.add(person.pk)
        if data.external_id:
            taken.add(data.external_id)
        plans.append(_Plan(item, person, person.pk in involved, case, units, addressing))
    return plans, refused


def _admit_problems(
    data: Any, person: Person, open_persons: set[int], taken: set[str], now: dt.datetime
) -> list[Problem]:
    """``services.admission_problems`` with the batch's set-based answers (open stays, taken external ids)."""
    return services.admission_problems(
        care_type=data.care_type,
        admitted_at=data.admitted_at,
        expected_discharge_date=data.expected_discharge_date,
        need_assessed_at=data.need_assessed_at,
        has_open_stay=person.pk in open_persons,
        external_id_taken=bool(data.external_id) and data.external_id in taken,
        now=now,
    )


def _notice(
    case: Case, person: Person, recipients: list[str] | None, contacts: dict[int, Unit], now: dt.datetime
) -> tuple[list[Unit], str]:
    """R-INS-1..4, R-INS-7 on the unsaved case: sets need_assessed_at, notice_sent_at and notice_late."""
    if case.need_assessed_at is None:
        case.need_assessed_at = case.admitted_at  # R-INS-2: judged at admission

    def defaults(person: Person) -> list[Unit]:
        # services.default_recipients, from the contact points read once for the whole batch
        units = []
        contact = contacts.get(person.registered_municipality_id or 0)
        if contact is not None:
            units.append(contact)
        if person.listed_unit_id and person.listed_unit and person.listed_unit.is_active:
            units.append(person.listed_unit)
        return units

    return services.decide_admission_notice(case, person, recipients, defaults, now)


@transaction.atomic
def _write(
    actor: Actor,
    ward: Unit,
    plans: list[_Plan],
    message_id: Callable[[Item], str],
    answer_ok: Callable[[str, Case], dict[str, Any]],
    fetch: Callable[[list[int]], Any],
    now: dt.datetime,
) -> dict[int, Answer]:
    cases = Case.objects.bulk_create([p.case for p in plans])
    if any(c.pk is None for c in cases):  # a backend without RETURNING: let the per-item path do it
        raise OperationalError("bulk insert returned no ids")
    participants: list[Participant] = []
    involvements: list[tuple[int, Unit, str]] = []
    events: list[CaseEvent] = []
    log: list[tuple[Person, str, str, bool]] = []
    for plan in plans:
        case = plan.case
        due = {role: selectors.next_due_at(case, role) for role in Participant.Role.values}
        common = {"case": case, "case_status": case.status, "last_event_at": now}
        participants.append(
            Participant(
                unit=ward,
                role=Participant.Role.WARD,
                addressing=Participant.Addressing.SENDER,
                added_at=now,
                needs_ack=False,
                next_due_at=due[Participant.Role.WARD],
                **common,
            )
        )
        added = []
        for unit in plan.units:
            role = services.RECEIVING_KINDS[unit.kind]
            participants.append(
                Participant(
                    unit=unit,
                    role=role,
                    addressing=plan.addressing,
                    added_at=now,
                    needs_ack=True,
                    unacked_since=now,
                    next_due_at=due[role],
                    **common,
                )
            )
            added.append({**_unit_ref(unit), "addressing": plan.addressing})
        involvements.extend((plan.person.pk, unit, case.source) for unit in [ward, *plan.units])
        person = plan.person
        events.append(
            CaseEvent(
                case=case,
                kind=services.Kind.ADMITTED,
                occurred_at=case.admitted_at,
                recorded_at=now,
                user=actor.user,
                unit=ward,
                data={
                    "ward": _unit_ref(ward),
                    "site": ward.site.name if ward.site else None,
                    "care_type": case.care_type,
                    "municipality": person.registered_municipality.scb_code
                    if person.registered_municipality
                    else None,
                    "expected_discharge_date": _iso(case.expected_discharge_date),
                    "need_assessed_at": _iso(plan.item.data.need_assessed_at),
                },
            )
        )
        log.append((person, Action.LOOKUP, "person", plan.looked_up_involved))
        log.append((person, Action.CREATE, f"case:{case.pk}/{services.Kind.ADMITTED}", True))
        if plan.units:
            events.append(
                CaseEvent(
                    case=case,
                    kind=services.Kind.ADMISSION_NOTICE_SENT,
                    occurred_at=now,
                    recorded_at=now,
                    user=actor.user,
                    unit=ward,
                    data={
                        "recipients": added,
                        "assessed_at": _iso(case.need_assessed_at),
                        "due_at": _iso(case.notice_due_at),
                        "late": case.notice_late,
                        "rule": rules.notice_rule(case.admitted_at, case.need_assessed_at),
                        "expected_discharge_date": _iso(case.expected_discharge_date),
                    },
                )
            )
            log.append((person, Action.UPDATE, f"case:{case.pk}/{services.Kind.ADMISSION_NOTICE_SENT}", True))
    Participant.objects.bulk_create(participants)
    involve_many(involvements, Involvement.Kind.INPATIENT_CASE, at=now, new_sources=True)
    CaseEvent.objects.bulk_create(events)
    # bulk=True: bulk_create sends no post_save, so listeners that use it (notifications) act on this instead.
    events_recorded.send(sender=CaseEvent, events=events, bulk=True)
    log_accesses(actor, log)
    fresh = {c.pk: c for c in fetch([c.pk for c in cases])}
    answers: dict[int, Answer] = {}
    records = []
    for plan in plans:
        item = plan.item
        body = jsonable(answer_ok(message_id(item), fresh[plan.case.pk]))
        answers[item.index] = (201, body)
        if item.key:
            records.append(
                IdempotencyRecord(
                    user=actor.user,
                    unit=ward,
                    key=item.key,
                    request_hash=request_hash("create", item.body),
                    status=201,
                    body=body,
                )
            )
    IdempotencyRecord.objects.bulk_create(records)
    return answers
