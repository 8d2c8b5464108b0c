"""What the receiving side adds to the case page (brygga.cases.views.extend_case_page, ADR 0009): the planning
basis as the unit may read it, the receivers' plans and the case's SIP, and the POST actions for the
receiver's own plan and for summoning a SIP from the case."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from brygga.accounts.context import Actor
from brygga.cases.models import Case, Participant
from brygga.core.inputs import form_date, form_datetime
from brygga.organisations.models import Unit
from brygga.receiving import services
from brygga.receiving.sip import sip_of_case, summon_sip_from_case
from brygga.receiving.views import receiving_context


def page_context(case: Case, unit: Unit, participants: list[Participant]) -> dict[str, Any]:
    return {**receiving_context(case, unit, participants), "case_sip": sip_of_case(case)}


def summon_sip(actor: Actor, case: Case, post: Any) -> str:
    summon_sip_from_case(
        actor,
        case,
        need_description=post.get("need_description", ""),
        meeting_at=form_datetime(post.get("meeting_at", ""), "meeting_at", required=True),
        location=post.get("location", ""),
    )
    return _("Kallelse till SIP är skickad till ärendets enheter. SIP:en är kopplad till ärendet.")


def save_receiver_plan(actor: Actor, case: Case, post: Any) -> str:
    services.save_receiver_plan(
        actor,
        case,
        decisions=post.get("decisions", ""),
        efforts=post.get("efforts", ""),
        ready_to_receive=post.get("ready_to_receive") == "on",
        ready_from=form_date(post.get("ready_from", ""), "ready_from"),
    )
    return _("Er planering är sparad och syns för avdelningen.")


ACTIONS = {"sip-summons": summon_sip, "receiver-plan": save_receiver_plan}
