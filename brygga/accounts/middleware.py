"""Attach the acting context (user + active membership) to every request as ``request.actor``."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from brygga.accounts.context import Actor
from brygga.accounts.services import active_memberships

SESSION_KEY = "brygga_active_membership"
# How the session was authenticated (accounts.models.AuthMethod); set at sign-in.
AUTH_METHOD_KEY = "brygga_auth_method"


class ActiveUnitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.actor = None  # type: ignore[attr-defined]
        request.memberships = []  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            memberships = active_memberships(user)
            chosen = request.session.get(SESSION_KEY)
            active = next((m for m in memberships if str(m.pk) == str(chosen)), None)
            if active is None and len(memberships) == 1:
                active = memberships[0]
            request.memberships = memberships  # type: ignore[attr-defined]
            request.actor = Actor(  # type: ignore[attr-defined]
                user=user,
                membership=active,
                channel="web",
                auth_method=request.session.get(AUTH_METHOD_KEY, ""),
            )
        return self.get_response(request)
