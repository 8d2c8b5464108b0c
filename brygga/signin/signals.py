from __future__ import annotations

from typing import Any

from django.utils import timezone

from brygga.signin.models import IdpSession


def end_idp_session_on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Any logout (brygga's button, SAML single logout from the IdP) ends the remembered IdP session row."""
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        IdpSession.objects.filter(session_key=key, ended_at__isnull=True).update(ended_at=timezone.now())
