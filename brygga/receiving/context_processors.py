"""The unread count per unit in the main menu (issue 18 item 2): one indexed count of the active unit's case
rows with something not yet acknowledged. No personal data, so nothing is logged."""

from __future__ import annotations

from django.http import HttpRequest

from brygga.accounts.permissions import Perm
from brygga.cases.models import Participant


def unread_count(request: HttpRequest) -> dict[str, object]:
    actor = getattr(request, "actor", None)
    if actor is None or actor.unit is None or not actor.can(Perm.CASE_READ):
        return {"unread_count": None}
    count = Participant.objects.filter(
        unit=actor.unit, status=Participant.Status.ACTIVE, needs_ack=True
    ).count()
    return {"unread_count": count}
