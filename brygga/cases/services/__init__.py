"""Every state change of an inpatient case, one named function each.

Each function checks the actor's permission and unit, validates the input (a DomainError names the field and
the rule, and — raised inside ``transaction.atomic`` — leaves nothing half-written), changes the case, writes
its immutable CaseEvent, opens the person to every receiving unit (``involve``) and writes the access log
(``record_change``), all in one transaction.

Split by sub-process (issue 14): ``common`` (reading, events, locking, guards), ``admission``, ``stay``,
``discharge``, ``edge_cases`` and ``messages``; everything public is named here too, so callers keep
``from brygga.cases import services``."""

from __future__ import annotations

from brygga.cases.services.admission import (
    add_recipient,
    add_recipients,
    admission_problems,
    admit,
    admit_with_notice,
    decide_admission_notice,
    default_recipients,
    open_stay_problem,
    reject_notice,
    resolve_recipients,
    send_admission_notice,
)
from brygga.cases.services.common import (
    ADMISSION_MAX_AGE,
    EXPECTED_STAY_MAX_DAYS,
    FUTURE_TOLERANCE,
    OPEN,
    RECEIVING_KINDS,
    Kind,
    Status,
    inbox_in_step_once,
    keep_inbox_in_step,
    lock_case,
    open_case,
    participant_for,
    planning_basis_of,
    record_event,
    unit_cases,
)
from brygga.cases.services.discharge import (
    close_case,
    discharge,
    send_discharge_info,
)
from brygga.cases.services.edge_cases import (
    CORRECTABLE,
    cancel_case,
    cancel_notice,
    correct_notice,
    end_leave,
    readdress_after_move,
    record_death,
    replace_reserve_number,
    start_leave,
    transfer,
)
from brygga.cases.services.messages import (
    CaseSubject,
    acknowledge,
    forward_message,
    pin_message,
    send_message,
)
from brygga.cases.services.stay import (
    appoint_coordinator,
    book_meeting,
    change_expected_date,
    checklist_status,
    save_planning_basis,
    send_sip_summons,
    set_checklist_item,
    set_discharge_ready,
    withdraw_discharge_ready,
)

__all__ = [
    "decide_admission_notice",
    "ADMISSION_MAX_AGE",
    "CORRECTABLE",
    "CaseSubject",
    "EXPECTED_STAY_MAX_DAYS",
    "FUTURE_TOLERANCE",
    "Kind",
    "OPEN",
    "RECEIVING_KINDS",
    "Status",
    "acknowledge",
    "add_recipient",
    "add_recipients",
    "admission_problems",
    "admit",
    "admit_with_notice",
    "appoint_coordinator",
    "book_meeting",
    "cancel_case",
    "cancel_notice",
    "change_expected_date",
    "checklist_status",
    "close_case",
    "correct_notice",
    "default_recipients",
    "discharge",
    "end_leave",
    "forward_message",
    "inbox_in_step_once",
    "keep_inbox_in_step",
    "lock_case",
    "open_case",
    "open_stay_problem",
    "participant_for",
    "planning_basis_of",
    "pin_message",
    "readdress_after_move",
    "record_death",
    "record_event",
    "reject_notice",
    "replace_reserve_number",
    "resolve_recipients",
    "save_planning_basis",
    "send_admission_notice",
    "send_discharge_info",
    "send_message",
    "send_sip_summons",
    "set_checklist_item",
    "set_discharge_ready",
    "start_leave",
    "transfer",
    "unit_cases",
    "withdraw_discharge_ready",
]
