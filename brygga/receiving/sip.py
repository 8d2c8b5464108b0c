"""SIP from the case (issue 18 item 4, ADR 0902): the summons on a discharge case creates the SIP — or takes
the case's open one — with the case's active units as participants, and summons it through the SIP app's own
service. The SIP holds the case (``Sip.case``) and the case page links to the SIP, so both link to each other.

Everything happens in one transaction: if the summons is refused (no participant of the other principal, no
consent for a unit of another principal: R-SIP-1, R-SEK-2..4) the SIP is not created either."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from brygga.accounts.context import Actor
from brygga.cases import actions
from brygga.cases.models import Case, Participant
from brygga.core import statements
from brygga.core.errors import DomainError
from brygga.sip import services as sip_services
from brygga.sip.models import Sip, SipParticipant

CLOSED = ("closed",)


def sip_of_case(case: Case) -> Sip | None:
    """The case's SIP that is not closed, newest first (the one the case page links to)."""
    return statements.reused_first(  # type: ignore[no-any-return]  # compiled once per process (ADR 0707)
        "sip_of_case",
        lambda case_id: (
            Sip.objects.filter(case_id=case_id).exclude(status__in=CLOSED).order_by("-created_at", "-id")[:1]
        ),
        case_id=case.pk,
    )


@transaction.atomic
def summon_sip_from_case(
    actor: Actor, case: Case, *, need_description: str, meeting_at: dt.datetime | None, location: str = ""
) -> Sip:
    """R-FVK-2, R-SIP-K-1: the fast vårdkontakt's vårdcentral summons to SIP from the case. The case's units
    become the SIP's participants; ``sip_services.summon`` checks R-SIP-1/R-SIP-3 and the legal basis per
    unit and records the case's summons (the 3-day deadline shows as met on both)."""
    actions.check(actor, case, "sip-summons")
    if case.sip_summons_sent_at is not None:
        raise DomainError.single("sip", "FEL-STATUS", _("Kallelsen är redan skickad."), status=409)
    sip = sip_of_case(case)
    if sip is None:
        sip = sip_services.start_sip(actor, case.person, need_description=need_description, case=case)
    units = SipParticipant.objects.filter(sip=sip, unit__isnull=False).values_list("unit_id", flat=True)
    present = set(units)
    for p in case.participants.filter(status=Participant.Status.ACTIVE).select_related("unit"):
        if p.unit_id not in present:
            sip_services.add_participant(actor, sip, kind=SipParticipant.Kind.UNIT, unit=p.unit)
    sip_services.summon(actor, sip, meeting_at=meeting_at, location=location)
    return sip
