"""ADR 0007: a record is never cut to fit a column. Three records the system writes from names and texts it
joins itself used to be cut silently (the economy's change log at 300 characters, a forum's change note at 400,
the local SMS record at 480); they are text columns now and keep everything."""

from __future__ import annotations

import pytest

from brygga.accounts.permissions import Role
from brygga.economy import services
from brygga.economy.models import ChangeRecord, ResponsibilityObject
from brygga.receiving.models import SentSms
from brygga.receiving.sms import LocalSmsAdapter
from tests.factories import actor

pytestmark = pytest.mark.django_db


def test_the_local_sms_record_keeps_the_whole_text() -> None:
    text = "Nytt i brygga: " + "å" * 600 + " https://brygga.example/arenden/1/"
    LocalSmsAdapter().send("+46700000000", text)
    assert SentSms.objects.get().text == text


def test_an_economy_change_record_keeps_a_subject_longer_than_300_characters() -> None:
    gits = actor(Role.GITS_COORDINATOR, "GITS kansli")
    obj = ResponsibilityObject.objects.create(code="lang", name="Ansvarsobjekt " + "x" * 180)
    budget = services.create_budget(gits, obj, 2031, "Budget")
    name = "Budgetrad " + "y" * 180
    services.add_line(gits, budget, name, "1000")
    subject = ChangeRecord.objects.get(action="line_added").subject
    assert len(subject) > 300 and subject == f"{budget}: {name}"
