"""Discharge (utskrivning): the discharge information, the discharge and closing the case."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.access.services import (
    end_involvement,
)
from brygga.accounts.context import Actor
from brygga.cases import actions
from brygga.cases.models import Case, CaseEvent
from brygga.cases.services.common import (
    FUTURE_TOLERANCE,
    Kind,
    Status,
    _iso,
    _not_before,
    _not_future,
    _now,
    lock_case,
    record_event,
)
from brygga.core.errors import DomainError, Problem
from brygga.core.limits import limited

# --- discharge ----------------------------------------------------------------------------------------------


@transaction.atomic
def send_discharge_info(
    actor: Actor, case: Case, *, summary_given: bool = False, at: dt.datetime | None = None
) -> CaseEvent:
    """R-UTS-1: the information needed for care after discharge, to every receiver, before or on the
    discharge day; R-UTS-2: whether the patient was given the written summary."""
    actions.check(actor, case, "discharge-info", state=False)
    case = lock_case(case)
    actions.check_state(case, "discharge-info")
    at = at or _now()
    _not_before(at, case.admitted_at, "at", _("Informationen kan inte skickas före inskrivningen."))
    _not_future(at, "at")
    case.discharge_info_sent_at = at
    fields = ["discharge_info_sent_at"]
    if summary_given:
        case.patient_summary_given_at = at
        fields.append("patient_summary_given_at")
    case.save(update_fields=fields)
    return record_event(
        case, actor, Kind.DISCHARGE_INFO_SENT, occurred_at=at, data={"patient_summary_given": summary_given}
    )


@transaction.atomic
def discharge(
    actor: Actor, case: Case, discharged_at: dt.datetime | None = None, destination: str = ""
) -> CaseEvent:
    """The patient leaves: checks the dates and the blocking checklist items (R-UTS-1, R-UTS-2), records the
    discharge and sends the discharge notice to every receiver, in one transaction."""
    actions.check(actor, case, "discharge", state=False)
    case = lock_case(case)
    actions.check_state(case, "discharge")
    at = discharged_at or _now()
    problems = []
    if at < case.admitted_at:
        problems.append(
            Problem("discharged_at", "DATUM-ORDNING", _("Utskrivningen kan inte vara före inskrivningen."))
        )
    if case.discharge_ready_at and at < case.discharge_ready_at:
        problems.append(
            Problem("discharged_at", "DATUM-ORDNING", _("Utskrivningen kan inte vara före utskrivningsklar."))
        )
    if at > _now() + FUTURE_TOLERANCE:
        problems.append(
            Problem("discharged_at", "DATUM-FRAMTID", _("Utskrivningen får inte ligga i framtiden."))
        )
    info = case.discharge_info_sent_at
    if info is None or timezone.localdate(info) > timezone.localdate(at):
        problems.append(
            Problem(
                "discharge_info",
                "R-UTS-1",
                _("Information vid utskrivning måste skickas senast samma dag som patienten skrivs ut."),
            )
        )
    if case.patient_summary_given_at is None:
        problems.append(
            Problem(
                "patient_summary",
                "R-UTS-2",
                _("Patienten ska få en skriftlig sammanfattning vid utskrivningen."),
            )
        )
    if problems:
        raise DomainError(problems)
    case.status = Status.DISCHARGED
    case.discharged_at = at
    now = _now()
    case.discharge_notice_sent_at = now
    case.save(update_fields=["status", "discharged_at", "discharge_notice_sent_at"])
    discharged = record_event(
        case,
        actor,
        Kind.DISCHARGED,
        occurred_at=at,
        data={
            "destination": limited("destination", destination, 200),
            "discharge_ready_at": _iso(case.discharge_ready_at),
        },
    )
    record_event(
        case, actor, Kind.DISCHARGE_NOTICE_SENT, occurred_at=now, data={"discharged_event": discharged.pk}
    )
    return discharged


@transaction.atomic
def close_case(actor: Actor, case: Case) -> CaseEvent:
    """Close a discharged, deceased or cancelled case. Records whether it closed without a discharge-ready or
    discharge notice (a statistic the users ask for) and ends the units' involvements."""
    actions.check(actor, case, "close", state=False)
    case = lock_case(case)
    actions.check_state(case, "close")
    previous = case.status
    now = _now()
    case.status = Status.CLOSED
    case.closed_at = now
    case.save(update_fields=["status", "closed_at"])
    event = record_event(
        case,
        actor,
        Kind.CLOSED,
        data={
            "from_status": previous,
            "without_discharge_ready": case.discharge_ready_at is None,
            "without_discharge_notice": case.discharge_notice_sent_at is None,
        },
    )
    end_involvement(case.person, None, case.source, at=now)
    return event
