"""What every step of a SIP and a care request shares: reading them through the checked path
(``open_sip``, ``open_care_request``), the event every change writes, locking and the guards."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.access.models import AccessLogEntry, DenialReason
from brygga.access.services import (
    is_involved,
    open_person,
    record_change,
    refused_person,
)
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError, NotFound
from brygga.organisations.models import Unit
from brygga.people.models import Person
from brygga.sip.models import (
    CareRequest,
    Event,
    Sip,
    SipParticipant,
)

Status = Sip.Status
OPEN_STATES = (Status.NEED, Status.PREPARE, Status.SUMMONED, Status.MEETING, Status.FOLLOW_UP)
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
MUNICIPAL_HEALTH_KINDS = (Unit.Kind.HOME_HEALTH, Unit.Kind.MUNICIPAL_CONTACT)


# --- helpers ------------------------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return timezone.now()


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _require(actor: Actor, perm: Perm, field: str = "") -> Unit:
    if not actor.can(perm) or actor.unit is None:
        raise DomainError.single(
            field, "BEHORIGHET", _("Din roll i den aktiva enheten får inte göra detta."), status=403
        )
    return actor.unit


def _unit_ref(unit: Unit) -> dict[str, Any]:
    return {"id": unit.pk, "hsa_id": unit.hsa_id, "name": unit.name}


def _side(unit: Unit) -> str:
    return "region" if unit.is_region_side else "municipality"


def record_event(
    actor: Actor,
    kind: str,
    *,
    sip: Sip | None = None,
    care_request: CareRequest | None = None,
    occurred_at: dt.datetime | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    now = _now()
    assert actor.unit is not None
    event = Event.objects.create(
        sip=sip,
        care_request=care_request,
        kind=kind,
        occurred_at=occurred_at or now,
        recorded_at=now,
        user=actor.user,
        unit=actor.unit,
        data=data or {},
    )
    subject: Sip | CareRequest = sip if sip is not None else care_request  # type: ignore[assignment]
    type(subject).objects.filter(pk=subject.pk).update(last_event_at=now)
    subject.last_event_at = now
    action = AccessLogEntry.Action.CREATE if kind in ("sip_started", "care_request_sent") else None
    record_change(actor, subject.person, f"{subject.source}/{kind}", action or AccessLogEntry.Action.UPDATE)
    return event


def _resolve_unit(value: Unit | int | str | None, field: str) -> Unit | None:
    if value in (None, ""):
        return None
    if isinstance(value, Unit):
        return value
    text = str(value).strip()
    found = Unit.objects.filter(pk=int(text)).first() if text.isdecimal() else None
    found = found or Unit.objects.filter(hsa_id=text).first()
    if found is None or not found.is_active:
        raise DomainError.single(field, "OKAND-ENHET", _("Välj en aktiv enhet."))
    return found


# --- reading ------------------------------------------------------------------------------------------------


def participation(actor: Actor, sip: Sip) -> SipParticipant | None:
    if actor.unit is None:
        return None
    return SipParticipant.objects.filter(sip=sip, unit=actor.unit).first()


def open_sip(actor: Actor, sip_id: int | str, what: str = "") -> Sip:
    """The SIP if the actor's role may read personal data and the active unit takes part in it (a planned
    participant from the summons on); the read is logged. Another unit's SIP and a SIP that does not exist
    both raise NotFound."""
    try:
        pk = int(sip_id)
    except (TypeError, ValueError) as exc:
        raise NotFound(DenialReason.NOT_FOUND) from exc
    if not actor.can(Perm.PERSON_READ) or actor.unit is None:
        raise NotFound(DenialReason.ROLE, refused_person(Sip, pk))
    sip = (
        Sip.objects.select_related("person", "case", "initiated_by_unit")
        .filter(pk=pk, participants__unit=actor.unit)
        .filter(Q(summoned_at__isnull=False) | Q(initiated_by_unit=actor.unit))
        .first()
    )
    if sip is None:
        refused_for = refused_person(Sip, pk)
        raise NotFound(DenialReason.NO_INVOLVEMENT if refused_for else DenialReason.NOT_FOUND, refused_for)
    open_person(actor, sip.person_id, what=f"{sip.source}{'/' + what if what else ''}")
    return sip


def open_care_request(actor: Actor, request_id: int | str, what: str = "") -> CareRequest:
    """The care request if the active unit sent or received it; the read is logged, and the receiver's
    first read is recorded (the request is then no longer new in its inbox)."""
    try:
        pk = int(request_id)
    except (TypeError, ValueError) as exc:
        raise NotFound(DenialReason.NOT_FOUND) from exc
    if not actor.can(Perm.PERSON_READ) or actor.unit is None:
        raise NotFound(DenialReason.ROLE, refused_person(CareRequest, pk))
    found = (
        CareRequest.objects.select_related("person", "from_unit", "to_unit", "sip")
        .filter(pk=pk)
        .filter(Q(from_unit=actor.unit) | Q(to_unit=actor.unit))
        .first()
    )
    if found is None:
        refused_for = refused_person(CareRequest, pk)
        raise NotFound(DenialReason.NO_INVOLVEMENT if refused_for else DenialReason.NOT_FOUND, refused_for)
    open_person(actor, found.person_id, what=f"{found.source}{'/' + what if what else ''}")
    if found.to_unit_id == actor.unit.pk and found.opened_at is None:
        found.opened_at = _now()
        CareRequest.objects.filter(pk=found.pk).update(opened_at=found.opened_at)
    return found


def _open_person_for_change(actor: Actor, person: Person, what: str) -> Person:
    return open_person(actor, person.pk, what=what, action=AccessLogEntry.Action.UPDATE)


def _person_for_start(actor: Actor, person: Person, what: str) -> Person:
    """Starting a SIP or a care request opens the person to the unit, as admitting does: the unit is already
    involved, or it found the person by identity number (``lookup_person``, logged and flagged for review)
    with a role that may look people up. Otherwise NotFound."""
    if is_involved(actor.unit, person.pk):
        return _open_person_for_change(actor, person, what)
    if not actor.can(Perm.PERSON_LOOKUP):
        raise NotFound
    record_change(actor, person, what, AccessLogEntry.Action.CREATE)
    return person
