"""The SIP and the care request as subjects of message threads (the protocol in
``brygga.messaging.services``).

A SIP's thread is read and written by the units that take part in it and can open it (``open_sip``: from the
summons on, or the initiating unit before). The receivers whose legal basis is checked are all other
participating units, planned ones included, since they read the thread from the summons on. A message is
recorded as a ``message_sent`` Event of the SIP and makes the SIP unacknowledged for the other units.

A care request's thread is between its sending and its receiving unit. A message is recorded as a
``message_sent`` Event of the request (care requests have no acknowledgement of their own)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from brygga.accounts.context import Actor
from brygga.cases.services import resolve_recipients
from brygga.core.errors import DomainError
from brygga.organisations.models import Unit
from brygga.sip.models import CareRequest, Sip, SipParticipant
from brygga.sip.services import record_event


def _not_supported(actor: Actor, unit: Unit) -> list[dict[str, Any]]:
    raise DomainError.single(
        "to_unit",
        "VIDARESAND",
        _("Här kan meddelanden inte vidaresändas till en ny enhet; lägg till enheten som deltagare."),
    )


class SipSubject:
    kind = "sip"

    def __init__(self, sip: Sip) -> None:
        self.obj = sip
        self.person = sip.person
        self.source = sip.source

    def sender_unit(self, actor: Actor) -> Unit | None:
        if actor.unit is None:
            return None
        sip = self.obj
        if sip.summoned_at is None and sip.initiated_by_unit_id != actor.unit.pk:
            return None
        return actor.unit if SipParticipant.objects.filter(sip=sip, unit=actor.unit).exists() else None

    def recipient_units(self, sender: Unit) -> list[Unit]:
        return [
            p.unit
            for p in SipParticipant.objects.filter(sip=self.obj, unit__isnull=False)
            .exclude(unit=sender)
            .select_related("unit__organisation__principal")
            if p.unit is not None
        ]

    def record_event(self, actor: Actor, data: dict[str, Any]) -> None:
        record_event(actor, "message_sent", sip=self.obj, data=data)
        SipParticipant.objects.filter(sip=self.obj, unit__isnull=False).exclude(unit=actor.unit).update(
            acknowledged_at=None
        )

    add_unit = staticmethod(_not_supported)

    def resolve_unit(self, ref: Unit | int | str) -> Unit:
        return resolve_recipients([ref])[0]


class CareRequestSubject:
    kind = "care_request"

    def __init__(self, care_request: CareRequest) -> None:
        self.obj = care_request
        self.person = care_request.person
        self.source = care_request.source

    def sender_unit(self, actor: Actor) -> Unit | None:
        if actor.unit is None:
            return None
        cr = self.obj
        return actor.unit if actor.unit.pk in (cr.from_unit_id, cr.to_unit_id) else None

    def recipient_units(self, sender: Unit) -> list[Unit]:
        cr = self.obj
        return list(
            Unit.objects.filter(Q(pk=cr.from_unit_id) | Q(pk=cr.to_unit_id))
            .exclude(pk=sender.pk)
            .select_related("organisation__principal")
        )

    def record_event(self, actor: Actor, data: dict[str, Any]) -> None:
        record_event(actor, "message_sent", care_request=self.obj, data=data)

    add_unit = staticmethod(_not_supported)

    def resolve_unit(self, ref: Unit | int | str) -> Unit:
        return resolve_recipients([ref])[0]
