"""The acting context: who acts, in which unit, with which role. Every checked path takes one of these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.http import HttpRequest

from brygga.accounts.permissions import Perm
from brygga.core.errors import PermissionDenied

if TYPE_CHECKING:
    from brygga.accounts.models import Membership, User
    from brygga.organisations.models import Unit


@dataclass(frozen=True)
class Actor:
    user: User
    membership: Membership | None
    channel: str = "web"  # web | api | command
    # How the user authenticated (accounts.models.AuthMethod), recorded on every access-log entry.
    auth_method: str = ""

    @property
    def unit(self) -> Unit | None:
        return self.membership.unit if self.membership else None

    @property
    def role(self) -> str | None:
        return self.membership.role if self.membership else None

    def can(self, perm: Perm) -> bool:
        """Fail closed: no active membership, an expired one, or a role without the permission is False."""
        return self.membership is not None and self.membership.allows(perm)

    def require(self, perm: Perm) -> None:
        if not self.can(perm):
            raise PermissionDenied(perm.value)

    @classmethod
    def for_membership(cls, membership: Membership, channel: str = "web") -> Actor:
        return cls(user=membership.user, membership=membership, channel=channel)


class AuthedRequest(HttpRequest):
    """A request past the sign-in middleware (``brygga.accounts.middleware``) or the API's token auth: its
    ``actor`` is set. Views that read the actor take this type, so ``request.actor`` is typed without a
    ``type: ignore`` per view; the checks themselves stay in ``actor_required`` and the token auth."""

    actor: Actor
