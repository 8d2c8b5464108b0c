"""API authentication: bearer tokens for integrating systems, the session (with CSRF) for the browser.
Both end with ``request.actor`` set, so endpoints check permissions exactly as views do."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import APIKeyCookie, HttpBearer

from brygga.accounts.context import Actor
from brygga.accounts.models import ApiToken, AuthMethod, hash_token

LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class TokenAuth(HttpBearer):
    openapi_description = "API-nyckel för integrerade system: `Authorization: Bearer bry_…`"

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = (
            ApiToken.objects.select_related("membership__user", "membership__unit__organisation")
            .filter(token_hash=hash_token(token), revoked_at__isnull=True)
            .first()
        )
        if found is None or not found.membership.user.is_active:
            return None
        membership = found.membership
        if not membership.is_valid_on(timezone.localdate()):
            return None
        now = timezone.now()
        # At most one write a minute: every request with the token runs in one transaction (ATOMIC_REQUESTS),
        # and an UPDATE per request would hold the token's row lock until the response, serialising all
        # concurrent requests of an integration (docs/benchmarks.md).
        if found.last_used_at is None or now - found.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.actor = Actor(  # type: ignore[attr-defined]
            user=membership.user, membership=membership, channel="api", auth_method=AuthMethod.API_TOKEN
        )
        return found


class BrowserSessionAuth(APIKeyCookie):
    """The logged-in browser session with its active unit; CSRF-checked like any form."""

    param_name = "sessionid"
    openapi_description = "Inloggad webbsession (samma aktiva enhet som i webbgränssnittet)."

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        actor = getattr(request, "actor", None)
        if actor is None or actor.membership is None:
            return None
        request.actor = Actor(  # type: ignore[attr-defined]
            user=actor.user, membership=actor.membership, channel="api", auth_method=actor.auth_method
        )
        return actor.user


AUTH = [TokenAuth(), BrowserSessionAuth()]
