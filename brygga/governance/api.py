"""Governance API: the public roadmap (no authentication) and the case list for signed-in users."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema

from brygga.accounts.context import AuthedRequest
from brygga.accounts.permissions import Perm
from brygga.governance import services
from brygga.governance.models import GovernanceCase

router = Router(tags=["Förvaltning och styrning"])


class RoadmapCaseOut(Schema):
    number: str
    kind: str
    title: str
    description: str
    state: str
    reason: str
    addressee: str | None
    endorsements: int
    decision: str | None
    decided_at: dt.datetime | None


class RoadmapOut(Schema):
    decided: list[RoadmapCaseOut]
    underway: list[RoadmapCaseOut]
    done: list[RoadmapCaseOut]
    rejected: list[RoadmapCaseOut]
    parked: list[RoadmapCaseOut]
    in_progress: list[RoadmapCaseOut]


def _case_out(case: GovernanceCase) -> dict[str, object]:
    decision = next(iter(case.decisions.all()), None)
    return {
        "number": case.number,
        "kind": case.kind,
        "title": case.title,
        "description": case.description,
        "state": case.state,
        "reason": case.state_reason,
        "addressee": case.addressee.name if case.addressee else None,
        "endorsements": case.endorsement_count,
        "decision": decision.text if decision else None,
        "decided_at": decision.decided_at if decision else None,
    }


@router.get(
    "/roadmap", response=RoadmapOut, auth=None, summary="Öppen färdplan: beslutat, pågår, avslaget, parkerat"
)
def roadmap(request: HttpRequest) -> dict[str, list[dict[str, object]]]:
    r = services.public_roadmap()
    return {
        "decided": [_case_out(c) for c in r.decided],
        "underway": [_case_out(c) for c in r.underway],
        "done": [_case_out(c) for c in r.done],
        "rejected": [_case_out(c) for c in r.rejected],
        "parked": [_case_out(c) for c in r.parked],
        "in_progress": [_case_out(c) for c in r.in_progress],
    }


@router.get("/cases", response=list[RoadmapCaseOut], summary="Förvaltningsärenden efter prioritet")
def cases(request: AuthedRequest, state: str = "") -> list[dict[str, object]]:
    request.actor.require(Perm.GOVERNANCE_VIEW)
    qs = GovernanceCase.objects.select_related("addressee").prefetch_related("decisions")
    if state:
        qs = qs.filter(state=state)
    return [_case_out(c) for c in qs[:500]]
