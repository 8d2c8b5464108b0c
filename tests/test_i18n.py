"""Swedish is the default; English is available for the shell (ADR 0006)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_swedish_by_default(client: Client) -> None:
    page = client.get("/konto/logga-in/").content.decode()
    assert 'lang="sv"' in page and "Logga in i brygga" in page


def test_swedish_whatever_the_browser_asks_for(client: Client) -> None:
    """Issue 13 item 5: Accept-Language does not decide; a nurse on an English computer meets Swedish."""
    page = client.get("/konto/logga-in/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").content.decode()
    assert 'lang="sv"' in page and "Logga in i brygga" in page
    assert "Log in to brygga" not in page


def test_english_when_the_user_picks_it_and_it_is_remembered(client: Client) -> None:
    page = client.get("/konto/logga-in/").content.decode()
    assert 'action="/i18n/setlang/"' in page and '<option value="en" lang="en"' in page  # the visible switch
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/konto/logga-in/"})
    assert response.status_code == 302
    cookie = response.cookies["django_language"]
    assert cookie.value == "en" and int(cookie["max-age"]) >= 365 * 24 * 3600  # remembered, not per session
    page = client.get("/konto/logga-in/", HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert 'lang="en"' in page and "Log in to brygga" in page and "Skip to content" in page
    client.post("/i18n/setlang/", {"language": "sv", "next": "/"})
    assert "Logga in i brygga" in client.get("/konto/logga-in/").content.decode()
