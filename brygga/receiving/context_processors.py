"""The unread count per unit in the main menu (issue 18 item 2): one indexed count of the active unit's case
rows with something not yet acknowledged. No personal data, so nothing is logged."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest

from brygga.accounts.permissions import Perm
from brygga.cases.models import Participant


def unread_count(request: HttpRequest) -> dict[str, object]:
    actor = getattr(request, "actor", None)
    if actor is None or actor.unit is None or not actor.can(Perm.CASE_READ):
        return {"unread_count": None}
    # Every page asks this: written out once instead of compiled by the ORM per request (issue 17); the same
    # statement as ``Participant.objects.filter(unit=…, status=ACTIVE, needs_ack=True).count()``.
    with connection.cursor() as cursor:
        cursor.execute(_UNREAD_SQL, [actor.unit.pk, str(Participant.Status.ACTIVE), True])
        (count,) = cursor.fetchone()
    return {"unread_count": count}


_UNREAD_SQL = (
    f"SELECT COUNT(*) FROM {Participant._meta.db_table}"  # noqa: S608 — the table name is the model's
    " WHERE unit_id = %s AND status = %s AND needs_ack = %s"
)
