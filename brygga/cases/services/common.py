"""What every step of the case shares: reading a case through the checked path, the event that every
state change writes (``record_event``), locking, the inbox columns kept in step, and the guards."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import transaction
from django.db.models import Case as DbCase
from django.db.models import DateTimeField, F, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.access.models import AccessLogEntry, DenialReason
from brygga.access.services import (
    log_access,
    open_person,
    record_change,
    refused_person,
)
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.cases import actions, selectors
from brygga.cases.models import Case, CaseEvent, Participant, PlanningBasis
from brygga.cases.signals import events_recorded
from brygga.core import statements
from brygga.core.errors import DomainError, NotFound
from brygga.organisations import directory
from brygga.organisations.models import Unit

Kind = CaseEvent.Kind
Status = Case.Status
OPEN = (Status.ADMITTED, Status.ON_LEAVE)
RECEIVING_KINDS: dict[str, str] = {
    Unit.Kind.MUNICIPAL_CONTACT: Participant.Role.MUNICIPALITY,
    Unit.Kind.HOME_HEALTH: Participant.Role.MUNICIPALITY,
    Unit.Kind.SOCIAL_SERVICES: Participant.Role.MUNICIPALITY,
    Unit.Kind.PRIMARY_CARE: Participant.Role.PRIMARY_CARE,
}
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
# How far back an admission may be registered, and how far after it the expected discharge may lie: a date
# outside these is a typing error (an admission in 1999), refused as DATUM-RIMLIG, never stored.
ADMISSION_MAX_AGE = dt.timedelta(days=366)
EXPECTED_STAY_MAX_DAYS = 366


# --- reading ------------------------------------------------------------------------------------------------


def unit_cases(unit: Unit | None) -> QuerySet[Case]:
    """The cases ``unit`` takes part in as an active participant: the need-to-know scope ``open_case`` checks,
    for other apps that must know which cases a user could open (without reading or logging them)."""
    if unit is None:
        return Case.objects.none()
    return Case.objects.filter(participants__unit=unit, participants__status=Participant.Status.ACTIVE)


def open_case(actor: Actor, case_id: int | str, what: str = "", action: str = "") -> Case:
    """The case if the actor's role may read cases and the active unit takes part in it; the read is logged,
    once (as ``action``: a read, or an export for a printout). A case of another unit and a case that does not
    exist both raise NotFound."""
    try:
        pk = int(case_id)
    except (TypeError, ValueError) as exc:
        raise NotFound(DenialReason.NOT_FOUND) from exc
    if not actor.can(Perm.CASE_READ) or actor.unit is None:
        raise NotFound(DenialReason.ROLE, refused_person(Case, pk))
    # The same statement for every case and unit: compiled once per process (ADR 0707).
    case = statements.reused_first(
        "open_case",
        lambda unit_id, case_id: (
            # The ward's organisation too: the case page's deviation link names it.
            unit_cases(Unit(pk=unit_id))
            .select_related("person", "ward__organisation")
            .filter(pk=case_id)
            .order_by()[:1]
        ),
        unit_id=actor.unit.pk,
        case_id=pk,
    )
    if case is None:
        refused_for = refused_person(Case, pk)
        raise NotFound(DenialReason.NO_INVOLVEMENT if refused_for else DenialReason.NOT_FOUND, refused_for)
    _attach_references(case)
    open_person(
        actor,
        case.person_id,
        what=f"case:{case.pk}{'/' + what if what else ''}",
        action=action or AccessLogEntry.Action.READ,
        read=case.person,  # read with the case, its municipality and listed unit attached above
    )
    return case


def planning_basis_of(case: Case) -> PlanningBasis | None:
    """The case's planning basis, if the ward has written one (compiled once per process, ADR 0707)."""
    return statements.reused_first(  # type: ignore[no-any-return]
        "planning_basis_of",
        lambda case_id: PlanningBasis.objects.filter(case_id=case_id).order_by("pk")[:1],
        case_id=case.pk,
    )


def _attach_references(case: Case) -> None:
    """The case's site, municipality and coordinating unit and the person's municipality and listed unit
    (the case page's summary shows them), read by id from the small reference tables. Joined to the case in
    one statement these made an eight-table join that PostgreSQL took 3–5 ms to plan for one row, against
    0.3 ms for the case, its person and ward (issue 17)."""
    person = case.person
    units = Unit.objects.in_bulk({i for i in (case.coordinator_unit_id, person.listed_unit_id) if i})
    # Municipalities and hospitals from the per-process directory (ADR 0703): two statements fewer a page.
    municipalities = directory.municipalities_by_id(
        {i for i in (case.municipality_id, person.registered_municipality_id) if i}
    )
    sites = directory.sites_by_id([case.site_id]) if case.site_id else {}
    # Assigned through the relations, so reading them asks nothing more (an id without a row stays as read).
    if case.coordinator_unit_id in units:
        case.coordinator_unit = units[case.coordinator_unit_id]
    if person.listed_unit_id in units:
        person.listed_unit = units[person.listed_unit_id]
    if case.municipality_id in municipalities:
        case.municipality = municipalities[case.municipality_id]
    if person.registered_municipality_id in municipalities:
        person.registered_municipality = municipalities[person.registered_municipality_id]
    if case.site_id in sites:
        case.site = sites[case.site_id]


def participant_for(actor: Actor, case: Case) -> Participant | None:
    """The active unit's active participation in the case, with its unit (``actions.active_participant``)."""
    return actions.active_participant(actor, case)


# --- helpers ------------------------------------------------------------------------------------------------


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _user_label(actor: Actor) -> str:
    return actor.user.get_full_name() or actor.user.username


def _now() -> dt.datetime:
    return timezone.now()


def lock_case(case: Case) -> Case:
    """Re-read the case under a row lock, so two concurrent changes cannot both pass the state checks. Every
    change of a case takes it: compiled once per process (ADR 0707). A reused statement skips the compiler,
    and with it Django's refusal of a lock outside a transaction (where it would hold nothing): made here."""
    if transaction.get_autocommit():
        raise transaction.TransactionManagementError("lock_case() outside a transaction locks nothing")
    found = statements.reused_first(
        "lock_case",
        lambda case_id: (
            Case.objects.select_for_update()
            .select_related("person", "ward", "site")
            .filter(pk=case_id)
            .order_by()[:1]
        ),
        case_id=case.pk,
    )
    if found is None:
        raise Case.DoesNotExist(f"case {case.pk}")
    return found  # type: ignore[no-any-return]


def record_event(
    case: Case,
    actor: Actor,
    kind: str,
    occurred_at: dt.datetime | None = None,
    data: dict[str, Any] | None = None,
    notify: bool = True,
    involved: bool | None = None,
) -> CaseEvent:
    """Write the event, mark it unacknowledged for every other active unit, and log the change. ``involved``:
    the caller knows the active unit's involvement (it just opened it), so the log need not look it up."""
    now = _now()
    assert actor.unit is not None
    event = CaseEvent.objects.create(
        case=case,
        kind=kind,
        occurred_at=occurred_at or now,
        recorded_at=now,
        user=actor.user,
        unit=actor.unit,
        data=data or {},
    )
    case.last_event_at = now
    events_recorded.send(sender=CaseEvent, events=[event])
    pending = _inbox_pending.get()
    if pending is None:
        Case.objects.filter(pk=case.pk).update(last_event_at=now)
        keep_inbox_in_step(case)
    else:
        pending[case.pk] = now
    if notify:
        Participant.objects.filter(case=case, status=Participant.Status.ACTIVE).exclude(
            unit=actor.unit
        ).update(needs_ack=True, unacked_since=Coalesce(F("unacked_since"), Value(now)))
    action = AccessLogEntry.Action.CREATE if kind == Kind.ADMITTED else AccessLogEntry.Action.UPDATE
    what = f"case:{case.pk}/{kind}"
    if involved is None:
        record_change(actor, case.person, what, action)
    else:
        log_access(actor, case.person, action, what, had_involvement=involved)
    return event


# Case pk -> its newest event time, while ``inbox_in_step_once`` defers the inbox columns to the end.
_inbox_pending: ContextVar[dict[int, dt.datetime] | None] = ContextVar("brygga_inbox_pending", default=None)


@contextmanager
def inbox_in_step_once() -> Iterator[None]:
    """Within the block, ``record_event`` writes ``last_event_at`` and the inbox columns once per case at the
    end instead of once per event (the result is the same: the last event's time, the case's final state). Use
    it inside the transaction of a request that makes several changes, e.g. admission + notice."""
    if _inbox_pending.get() is not None:
        yield
        return
    pending: dict[int, dt.datetime] = {}
    token = _inbox_pending.set(pending)
    try:
        yield
    finally:
        _inbox_pending.reset(token)
    for pk, at in pending.items():
        Case.objects.filter(pk=pk).update(last_event_at=at)
        keep_inbox_in_step(Case(pk=pk))


def keep_inbox_in_step(case: Case) -> None:
    """Copy the case's status, last event and each role's next open deadline onto its participant rows, so the
    inbox can filter, order and page in the database (ADR 0105). Called by ``record_event`` — every state
    change writes an event after changing the case. The case is read again first: a caller may hold a stale
    copy."""
    found = statements.reused_first(  # compiled once per process (ADR 0707): every event reads it
        "keep_inbox_in_step", lambda case_id: Case.objects.filter(pk=case_id).order_by()[:1], case_id=case.pk
    )
    if found is None:
        raise Case.DoesNotExist(f"case {case.pk}")
    case = found
    due = {role: selectors.next_due_at(case, role) for role in Participant.Role.values}
    Participant.objects.filter(case=case).update(
        case_status=case.status,
        last_event_at=case.last_event_at,
        next_due_at=DbCase(
            *[When(role=role, then=Value(at)) for role, at in due.items() if at is not None],
            default=Value(None, output_field=DateTimeField()),
            output_field=DateTimeField(),
        ),
    )


def _require(actor: Actor, perm: Perm, field: str = "") -> None:
    if not actor.can(perm):
        raise DomainError.single(
            field, "BEHORIGHET", _("Din roll i den aktiva enheten får inte göra detta."), status=403
        )


def _require_ward(actor: Actor, case: Case, perm: Perm = Perm.CASE_UPDATE) -> None:
    _require(actor, perm)
    if actor.unit is None or actor.unit.pk != case.ward_id:
        raise DomainError.single(
            "unit", "AVSANDARE", _("Bara den vårdavdelning där patienten vårdas kan göra detta."), status=403
        )


def _require_state(case: Case, allowed: Iterable[str], field: str = "status") -> None:
    allowed = tuple(allowed)
    if case.status not in allowed:
        raise DomainError.single(
            field,
            "FEL-STATUS",
            _("Ärendet har status %(status)s; steget går inte att göra nu.")
            % {"status": case.get_status_display()},
            status=409,
        )


def _not_before(
    value: dt.datetime | dt.date, earliest: dt.datetime | dt.date, field: str, message: str
) -> None:
    if value < earliest:
        raise DomainError.single(field, "DATUM-ORDNING", message)


def _not_future(value: dt.datetime, field: str) -> None:
    if value > _now() + FUTURE_TOLERANCE:
        raise DomainError.single(field, "DATUM-FRAMTID", _("Tidpunkten får inte ligga i framtiden."))


def _receiver(actor: Actor, case: Case, perm: Perm = Perm.CASE_RECEIVE) -> Participant:
    _require(actor, perm)
    participant = participant_for(actor, case)
    if participant is None or participant.role == Participant.Role.WARD:
        raise DomainError.single(
            "unit", "MOTTAGARE", _("Bara en mottagande enhet i ärendet kan göra detta."), status=403
        )
    return participant


def _unit_ref(unit: Unit) -> dict[str, Any]:
    return {"id": unit.pk, "hsa_id": unit.hsa_id, "name": unit.name}
