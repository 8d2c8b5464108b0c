"""Acknowledgement and the case's message threads (the case as a subject of ``brygga.messaging``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.files.base import File
from django.db import transaction
from django.utils.translation import gettext as _

from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.cases.models import Case, CaseEvent, Participant
from brygga.cases.services.admission import add_recipients, resolve_recipients
from brygga.cases.services.common import (
    Kind,
    _now,
    _require,
    _unit_ref,
    lock_case,
    participant_for,
    record_event,
)
from brygga.core import statements
from brygga.core.errors import DomainError, NotFound
from brygga.messaging import services as messaging
from brygga.messaging.models import Message
from brygga.organisations.models import Unit

# --- inbox and messages -------------------------------------------------------------------------------------


@transaction.atomic
def acknowledge(actor: Actor, case: Case) -> CaseEvent:
    """Human acknowledgement (kvittera) of everything new in the case, for the actor's unit."""
    participant = participant_for(actor, case)
    if participant is None:
        raise NotFound
    _require(actor, Perm.CASE_READ)
    now = _now()
    Participant.objects.filter(pk=participant.pk).update(
        needs_ack=False, unacked_since=None, acknowledged_at=now, acknowledged_by=actor.user
    )
    return record_event(
        case, actor, Kind.ACKNOWLEDGED, data={"unit": _unit_ref(participant.unit)}, notify=False
    )


class CaseSubject:
    """The case as the subject of message threads (the protocol in ``brygga.messaging.services``),
    registered in ``CasesConfig.ready``."""

    kind = "case"

    def __init__(self, case: Case, participants: list[Participant] | None = None) -> None:
        self.obj = case
        self.person = case.person
        self.source = case.source
        # The case's participations with their units (and the units' principals), when the caller has read
        # them for the same request (the case page): the sender and the recipients are then taken from them.
        self.participants = participants

    def sender_unit(self, actor: Actor) -> Unit | None:
        if self.participants is not None:
            unit_id = actor.unit.pk if actor.unit is not None else None
            return next(
                (
                    p.unit
                    for p in self.participants
                    if p.unit_id == unit_id and p.status == Participant.Status.ACTIVE
                ),
                None,
            )
        participant = participant_for(actor, self.obj)
        return participant.unit if participant else None

    def recipient_units(self, sender: Unit) -> list[Unit]:
        if self.participants is not None:
            active = [
                p
                for p in self.participants
                if p.status == Participant.Status.ACTIVE and p.unit_id != sender.pk
            ]
            return [p.unit for p in sorted(active, key=lambda p: p.pk)]  # the order the units joined
        return [
            p.unit
            for p in statements.reused(  # compiled once per process (ADR 0707)
                "message_recipient_units",
                lambda case_id, sender_id: (
                    Participant.objects.filter(case_id=case_id, status=Participant.Status.ACTIVE)
                    .exclude(unit_id=sender_id)
                    .select_related("unit__organisation__principal")
                    .order_by("pk")  # the order the units joined, on every database (shown, and stored)
                ),
                case_id=self.obj.pk,
                sender_id=sender.pk,
            )
        ]

    def record_event(self, actor: Actor, data: dict[str, Any]) -> None:
        record_event(self.obj, actor, CaseEvent.Kind.MESSAGE_SENT, data=data)

    def add_unit(self, actor: Actor, unit: Unit) -> list[dict[str, Any]]:
        sender = self.sender_unit(actor)
        if sender is None or unit.organisation_id != sender.organisation_id:
            raise DomainError.single(
                "to_unit", "VIDARESAND", _("Vidaresändning går bara till enheter i den egna organisationen.")
            )
        self.obj = lock_case(self.obj)
        if Participant.objects.filter(case=self.obj, unit=unit, status=Participant.Status.ACTIVE).exists():
            return []
        return add_recipients(self.obj, [unit], Participant.Addressing.MANUAL, _now())

    def resolve_unit(self, ref: Unit | int | str) -> Unit:
        return resolve_recipients([ref])[0]


def send_message(
    actor: Actor,
    case: Case,
    *,
    body: str,
    category: str = "",
    subject: str = "",
    reply_to: Message | None = None,
    quote: str = "",
    files: Sequence[File] = (),
) -> Message:
    """A message in a thread of the case (the generic service in ``brygga.messaging.services``: legal basis
    per receiving unit, R-SEK-2, and attachments in the same transaction)."""
    return messaging.send_message(
        actor,
        CaseSubject(case),
        body=body,
        category=category,
        title=subject,
        reply_to=reply_to,
        quote=quote,
        files=files,
    )


def pin_message(actor: Actor, case: Case, message: Message, pinned: bool = True) -> Message:
    """Pin an important message to the top of the case for every unit."""
    return messaging.pin_message(actor, CaseSubject(case), message, pinned)


def forward_message(
    actor: Actor,
    case: Case,
    message: Message,
    *,
    include_text: bool,
    subject: str = "",
    category: str = "",
    reason: str = "",
    to_unit: Unit | int | str | None = None,
    files: Sequence[File] = (),
) -> Message:
    """Forward a message as a new thread (MedCom: the user chooses what to include; category and subject are
    copied and may be edited; a reason may be given). ``to_unit`` forwards within the actor's own organisation
    (SAMSA's "vidaresänd inom egen organisation"): that unit joins the case and gets access."""
    unit = resolve_recipients([to_unit])[0] if to_unit is not None and str(to_unit).strip() else None
    return messaging.forward_message(
        actor,
        CaseSubject(case),
        message,
        include_text=include_text,
        title=subject,
        category=category,
        reason=reason,
        to_unit=unit,
        files=files,
    )
