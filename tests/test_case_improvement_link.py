"""The case screen links to raising a need in the management plane (issue 6)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_case_page_offers_suggest_an_improvement(client: Client) -> None:
    """Issue 6: needs can be raised from a coordination case screen, without carrying personal data."""
    from django.core.management import call_command

    from brygga.accounts.models import User
    from brygga.cases.models import Case

    call_command("load_demo_data", verbosity=0)
    client.force_login(User.objects.get(username="lakare"))
    case = Case.objects.filter(ward__name="Sahlgrenska, medicinavdelning").first()
    assert case is not None
    page = client.get(f"/arenden/{case.pk}/").content.decode()
    assert "/forvaltning/arenden/nytt/?fran=" in page and "Föreslå en förbättring" in page
    assert case.person.identifier not in page.split("Föreslå en förbättring")[0].rsplit("fran=", 1)[1]
