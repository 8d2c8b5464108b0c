from django.http import HttpRequest

from brygga.accounts.permissions import Perm


def active_unit(request: HttpRequest) -> dict[str, object]:
    actor = getattr(request, "actor", None)
    return {
        "actor": actor,
        "memberships": getattr(request, "memberships", []),
        "perms": {perm.name: actor.can(perm) for perm in Perm} if actor else {},
    }
