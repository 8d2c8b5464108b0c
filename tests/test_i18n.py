"""Swedish is the default; English is available for the shell (ADR 0006)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_swedish_by_default(client: Client) -> None:
    page = client.get("/konto/logga-in/").content.decode()
    assert 'lang="sv"' in page and "Logga in i brygga" in page


def test_english_when_the_browser_asks_for_it(client: Client) -> None:
    page = client.get("/konto/logga-in/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="en"' in page and "Log in to brygga" in page and "Skip to content" in page
