"""Every state change of a SIP and of a care request, one named function each.

Each function checks the actor's permission and unit, validates the input (a DomainError names the field and
the rule and, raised inside ``transaction.atomic``, leaves nothing half-written), changes the object, writes
its immutable Event, opens the person to the participating units (``involve``, kind SIP or OUTPATIENT) and
writes the access log, in one transaction. Sharing across units asks ``consent.decide_disclosure`` and stores
the legal basis it returned.

Split by sub-process (issue 14): ``common`` (reading, events, locking, guards), ``start`` (offer and
start), ``plan`` (summons, meeting, plan, follow-up) and ``care_requests``; everything public is named here
too, so callers keep ``from brygga.sip import services``."""

from __future__ import annotations

from brygga.sip.services.care_requests import (
    CARE_REQUEST_CATEGORIES,
    answer_care_request,
    care_request_problems,
    link_care_request_to_sip,
    send_care_request,
    supplement_care_request,
    withdraw_care_request,
)
from brygga.sip.services.common import (
    FUTURE_TOLERANCE,
    MUNICIPAL_HEALTH_KINDS,
    OPEN_STATES,
    Status,
    open_care_request,
    open_sip,
    participation,
    record_event,
)
from brygga.sip.services.plan import (
    acknowledge_sip,
    add_follow_up,
    close_sip,
    complete_follow_up,
    establish,
    plan_problems,
    record_meeting,
    save_draft,
    start_revision,
    summon,
)
from brygga.sip.services.start import (
    add_participant,
    record_sip_offer,
    remove_participant,
    start_sip,
)

__all__ = [
    "record_event",
    "CARE_REQUEST_CATEGORIES",
    "FUTURE_TOLERANCE",
    "MUNICIPAL_HEALTH_KINDS",
    "OPEN_STATES",
    "Status",
    "acknowledge_sip",
    "add_follow_up",
    "add_participant",
    "answer_care_request",
    "care_request_problems",
    "close_sip",
    "complete_follow_up",
    "establish",
    "link_care_request_to_sip",
    "open_care_request",
    "open_sip",
    "participation",
    "plan_problems",
    "record_meeting",
    "record_sip_offer",
    "remove_participant",
    "save_draft",
    "send_care_request",
    "start_revision",
    "start_sip",
    "summon",
    "supplement_care_request",
    "withdraw_care_request",
]
