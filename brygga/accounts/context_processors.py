from django.http import HttpRequest
from django.utils import timezone

from brygga.accounts.permissions import Perm, role_has


def active_unit(request: HttpRequest) -> dict[str, object]:
    actor = getattr(request, "actor", None)
    perms: dict[str, bool] = {}
    if actor is not None:
        # Actor.can for every permission, with the membership's validity checked once, not once per
        # permission (each check converted the clock to a local date): the same answers, fail closed.
        membership = actor.membership
        valid = membership is not None and membership.is_valid_on(timezone.localdate())
        perms = {perm.name: valid and role_has(membership.role, perm) for perm in Perm}
    return {
        "actor": actor,
        "memberships": getattr(request, "memberships", []),
        "perms": perms,
    }
