"""State changes of the receiving side: a receiving unit's own planning (ADR 0900). Each writes the case's
event through the cases app, so the ward and the other units see that something changed (inbox, count)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.accounts.context import Actor
from brygga.cases import actions
from brygga.cases import services as case_services
from brygga.cases.models import Case, CaseEvent
from brygga.core.errors import DomainError, Problem
from brygga.receiving.models import ReceiverPlan

TEXT_LIMIT = 2000


@transaction.atomic
def save_receiver_plan(
    actor: Actor,
    case: Case,
    *,
    decisions: str,
    efforts: str,
    ready_to_receive: bool,
    ready_from: dt.date | None = None,
) -> ReceiverPlan:
    """A receiving unit records its decisions, the efforts it plans and whether it is ready to receive the
    patient. Only an active receiving participant with Perm.CASE_RECEIVE, only while the case is open."""
    participant = actions.check(actor, case, "receiver-plan")
    problems = []
    for name, value, label in (
        ("decisions", decisions, _("Beslut")),
        ("efforts", efforts, _("Planerade insatser")),
    ):
        if len(value.strip()) > TEXT_LIMIT:
            problems.append(
                Problem(
                    name,
                    "LANGD",
                    _("%(field)s får vara högst %(max)s tecken (nu %(n)s).")
                    % {"field": label, "max": TEXT_LIMIT, "n": len(value.strip())},
                )
            )
    if not (decisions.strip() or efforts.strip() or ready_to_receive):
        problems.append(
            Problem("efforts", "PLAN-OBLIGATORISK", _("Skriv beslut eller insatser, eller ange redo."))
        )
    if ready_from is not None and ready_from < timezone.localdate() - dt.timedelta(days=1):
        problems.append(Problem("ready_from", "DATUM-PASSERAT", _("Datumet har redan passerat.")))
    if problems:
        raise DomainError(problems)
    plan, _created = ReceiverPlan.objects.update_or_create(
        case=case,
        unit=participant.unit,
        defaults={
            "decisions": decisions.strip(),
            "efforts": efforts.strip(),
            "ready_to_receive": ready_to_receive,
            "ready_from": ready_from if ready_to_receive else None,
            "updated_at": timezone.now(),
            "updated_by": actor.user,
        },
    )
    case_services.record_event(
        case,
        actor,
        CaseEvent.Kind.PLANNING_UPDATED,
        data={
            "part": "receiver_plan",
            "ready_to_receive": ready_to_receive,
            "ready_from": ready_from.isoformat() if ready_from and ready_to_receive else None,
        },
        involved=True,
    )
    return plan
