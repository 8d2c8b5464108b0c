"""The idle timeout without a database write on every request (issue 17).

The session cookie age is the idle timeout (`BRYGGA_SESSION_IDLE_MINUTES`, R-AUTH-1's "automatic log-out after
inactivity"). Saving the session on every request kept it exact to the second, at the price of an UPDATE and a
COMMIT on every page view, the only write most GETs made. A signed-in session is now saved (and so its expiry
moved) at most once a `REFRESH_SECONDS`: the idle timeout holds to within that much (a session idle for
`SESSION_COOKIE_AGE - REFRESH_SECONDS` may already have ended), never longer."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.contrib.auth import SESSION_KEY as AUTH_USER_KEY
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from brygga.core import statements

REFRESH_SECONDS = 60
SEEN_KEY = "brygga_seen"


class IdleTimeoutMiddleware:
    """Placed after SessionMiddleware, so it marks the session before that one decides whether to save it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.modified or AUTH_USER_KEY not in session:
            return response  # saved anyway, or nobody signed in (nothing to keep alive)
        now = int(time.time())
        if now - int(session.get(SEEN_KEY, 0)) >= REFRESH_SECONDS:
            session[SEEN_KEY] = now  # modified: SessionMiddleware saves it with a new expiry
        return response


class SessionStore(DbSessionStore):
    """Django's database sessions, the session read on every request compiled once per process (ADR 0707):
    the same statement as Django's, the expiry compared with the clock of each run."""

    def _get_session_from_db(self) -> Any:
        now = timezone.now()
        try:
            found = statements.reused(
                "session",
                lambda session_key: self.model.objects.filter(
                    session_key=session_key, expire_date__gt=statements.moment(now)
                ),
                now=now,
                session_key=self.session_key,
            )
        except SuspiciousOperation as exc:
            logging.getLogger(f"django.security.{exc.__class__.__name__}").warning(str(exc))
            found = []
        if not found:
            self._session_key = None
            return None
        return found[0]
