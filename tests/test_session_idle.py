"""R-AUTH-1 (automatic log-out after inactivity) without a session write on every page view (issue 17): a
signed-in session's expiry moves at most once a minute, and a session idle for the configured time has ended."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from brygga.accounts.permissions import Role
from brygga.accounts.sessions import REFRESH_SECONDS
from tests.factories import WARD, actor

pytestmark = pytest.mark.django_db


def _expiry(client: Client) -> dt.datetime:
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_session_expiry_moves_at_most_once_a_minute_and_idle_sessions_end(client: Client) -> None:
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        client.force_login(actor(Role.WARD_NURSE, WARD, username="nurse").user)
        assert client.get("/arenden/").status_code == 200
        first = _expiry(client)
    assert first == start + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)

    with time_machine.travel(start + dt.timedelta(seconds=REFRESH_SECONDS - 1), tick=False):
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/arenden/").status_code == 200
        assert _expiry(client) == first  # not saved: no write for this page view
        assert not any(
            "django_session" in q["sql"] and "UPDATE" in q["sql"] for q in queries.captured_queries
        )

    later = start + dt.timedelta(seconds=REFRESH_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        assert client.get("/arenden/").status_code == 200
        assert _expiry(client) == later + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)

    idle_end = later + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE + 1)
    with time_machine.travel(idle_end, tick=False):
        response = client.get("/arenden/")
    assert response.status_code == 302 and "/konto/logga-in/" in response["Location"]


def test_anonymous_requests_write_no_session(client: Client) -> None:
    client.get("/konto/logga-in/")
    assert not Session.objects.exists()


def test_the_signed_in_user_is_read_anew_on_every_request(client: Client) -> None:
    """R-AUTH-1 (issue 17: the user's read on every request is a statement compiled once, ADR 0707): what
    the request sees is this request's row. A user made inactive, or whose password changed (the session's
    hash no longer matches), is signed out on the next request; another user's session sees that user."""
    nurse = actor(Role.WARD_NURSE, WARD, username="nurse").user
    other = actor(Role.WARD_NURSE, WARD, username="other-nurse").user
    client.force_login(nurse)
    assert client.get("/arenden/").wsgi_request.user.pk == nurse.pk

    second = Client()
    second.force_login(other)
    assert second.get("/arenden/").wsgi_request.user.pk == other.pk

    type(nurse).objects.filter(pk=nurse.pk).update(is_active=False)
    response = client.get("/arenden/")
    assert response.status_code == 302 and "/konto/logga-in/" in response["Location"]

    other.set_password("a-new-passphrase-for-the-test")
    other.save(update_fields=["password"])
    response = second.get("/arenden/")
    assert response.status_code == 302 and "/konto/logga-in/" in response["Location"]
    with pytest.raises(type(other).DoesNotExist):
        type(other).objects.get(pk=-1)
