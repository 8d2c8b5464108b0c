"""Keeping brygga's persons in step with the population register: fetch on first sight, refresh on schedule
and on demand, follow a move to another municipality (ADR 0500)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from brygga.organisations.models import Municipality
from brygga.people.identifiers import IdKind, parse_identity_number
from brygga.people.models import Person
from brygga.people.register.base import NotInRegister, RegisterRecord, RegisterUnavailable, get_register
from brygga.people.signals import person_moved

log = logging.getLogger(__name__)

# The account register-driven changes are recorded under (case events need a user). It cannot sign in.
SYSTEM_USERNAME = "system-folkbokforing"


def find_or_fetch(identifier: str) -> Person | None:
    """The person with this identity number: the one brygga has, or — the first time — the one the population
    register returns, stored with its source and the time of the look-up. None when neither knows the number
    (reserve numbers are never asked for: only brygga knows them).

    Raises ``DomainError`` for a malformed number and ``RegisterUnavailable`` when the register had to be
    asked and did not answer. A person brygga already has is returned without asking the register, so a
    register that is down never stops work on a known person (``Person.register_checked_at`` says how old the
    data is).

    This checks no access and writes no log: callers acting for a user go through
    ``brygga.access.services.lookup_person`` (web, API), which does both; a system integration (FHIR) must log
    through its own checked path."""
    number = parse_identity_number(identifier)
    person = _known(number.value)
    if person is not None or number.kind is IdKind.RESERVE:
        return person
    register = get_register()
    if register is None:
        return None
    try:
        record = register.fetch(number.value)
    except NotInRegister:
        return None
    now = timezone.now()
    try:
        with transaction.atomic():
            person = Person(identifier=number.value, id_kind=number.kind.value, birth_date=number.birth_date)
            _apply(person, record, register.source, now)
            person.save()
    except IntegrityError:
        # A concurrent request stored the same person first; theirs is as fresh as ours.
        person = _known(number.value)
    return person


def _known(identifier: str) -> Person | None:
    return (
        Person.objects.select_related("registered_municipality", "listed_unit")
        .filter(identifier=identifier)
        .first()
    )


def _apply(person: Person, record: RegisterRecord, source: str, now: dt.datetime) -> list[str]:
    """Copy the register's data onto the person; returns the names of the fields that changed. The register's
    protection flag always wins (both ways: it is the authority on sekretessmarkering). A death the register
    does not (yet) know is kept: the ward may record it first."""
    municipality = (
        Municipality.objects.filter(scb_code=record.municipality_code).first()
        if record.municipality_code
        else None
    )
    wanted: dict[str, Any] = {
        "given_name": record.given_name,
        "family_name": record.family_name,
        "street_address": record.street_address,
        "postal_code": record.postal_code,
        "city": record.city,
        "registered_municipality_id": municipality.pk if municipality else None,
        "protected_identity": record.protected_identity,
    }
    if record.deceased_on is not None:
        wanted["deceased_on"] = record.deceased_on
    changed = [name for name, value in wanted.items() if getattr(person, name) != value]
    for name, value in wanted.items():
        setattr(person, name, value)
    if municipality is not None:
        person.registered_municipality = municipality
    person.source = source
    person.register_checked_at = now
    person.register_failed_at = None
    person.manual_reason = "" if source != Person.Source.MANUAL else person.manual_reason
    return changed


@dataclass
class RefreshOutcome:
    changed: list[str] = field(default_factory=list)
    moved: bool = False
    readdressed_cases: list[int] = field(default_factory=list)


def system_user() -> Any:
    """The account the register's own changes are recorded under (inactive, no usable password)."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"first_name": "Folkbokföringen", "is_active": False, "is_service_account": True},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def refresh_person(person: Person, user: Any = None) -> RefreshOutcome:
    """Fetch the person again and apply what changed. A move to another municipality re-addresses the open
    cases with an event (``cases.services.readdress_after_move``, a receiver of ``person_moved``). Reserve
    numbers are not in the register and are left alone. Raises ``RegisterUnavailable`` (the failed attempt is
    recorded on the person, the data is kept) or ``NotInRegister``."""
    if person.id_kind == IdKind.RESERVE:
        return RefreshOutcome()
    register = get_register()
    if register is None:
        raise RegisterUnavailable("no population register configured")
    now = timezone.now()
    try:
        record = register.fetch(person.identifier)
    except RegisterUnavailable:
        Person.objects.filter(pk=person.pk).update(register_failed_at=now)
        person.register_failed_at = now
        raise
    except NotInRegister:
        if person.source == Person.Source.MANUAL:
            # Confirmed still unknown to the register as of now: the hand-entered data stays.
            Person.objects.filter(pk=person.pk).update(register_checked_at=now, register_failed_at=None)
        raise
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        old_municipality = locked.registered_municipality_id
        changed = _apply(locked, record, register.source, now)
        locked.save()
        outcome = RefreshOutcome(changed=changed, moved=locked.registered_municipality_id != old_municipality)
        if outcome.moved:
            answers = person_moved.send(sender=Person, person=locked, user=user or system_user(), at=now)
            outcome.readdressed_cases = [int(case_id) for _receiver, ids in answers for case_id in ids or ()]
    person.refresh_from_db()
    return outcome


def refresh_stale_persons(max_age: dt.timedelta | None = None, limit: int | None = None) -> dict[str, int]:
    """The scheduled refresh: every register-backed person some unit still works with (an active involvement)
    whose data is older than ``max_age`` (``BRYGGA_POPULATION_REGISTER_MAX_AGE_HOURS``). Stops at the first
    time-out or fault — the register is down, and the next run picks up where this one stopped."""
    max_age = max_age or dt.timedelta(hours=settings.BRYGGA_POPULATION_REGISTER_MAX_AGE_HOURS)
    cutoff = timezone.now() - max_age
    # The involvements (brygga.access) through their reverse relation: the people app imports no app above it.
    active = Person.objects.filter(involvements__ended_at__isnull=True).values("pk")
    due = (
        Person.objects.filter(pk__in=active)
        .exclude(id_kind=IdKind.RESERVE)
        .filter(
            Q(register_checked_at__lt=cutoff, source__in=[Person.Source.PU, Person.Source.FILE])
            # Entered by hand because the register did not know them: ask again, they may be registered now.
            | Q(source=Person.Source.MANUAL)
            & (Q(register_checked_at__isnull=True) | Q(register_checked_at__lt=cutoff))
        )
        .order_by(F("register_checked_at").asc(nulls_first=True), "id")
    )
    summary = {"checked": 0, "changed": 0, "moved": 0, "not_found": 0, "unavailable": 0}
    user = None
    for person in due[:limit] if limit else due:
        try:
            if user is None:
                user = system_user()
            outcome = refresh_person(person, user)
        except NotInRegister:
            summary["not_found"] += 1
            continue
        except RegisterUnavailable as exc:
            summary["unavailable"] += 1
            log.warning("population register unavailable, refresh stopped: %s", exc.reason)
            break
        summary["checked"] += 1
        summary["changed"] += bool(outcome.changed)
        summary["moved"] += outcome.moved
    return summary
