"""The demo's volume for the statistics and payment pages (brygga/statistics/demo.py): synthetic stays written
once with reserve numbers only, the statistics refreshed so the region's figures are above the suppression
limit, and the payment demo settling the previous month from those cases besides its invented months."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from brygga.cases.models import Case
from brygga.demo.statistics import load_statistics_demo
from brygga.payment.models import SettlementRun
from brygga.people.models import IdKind, Person
from brygga.statistics.models import MonthlyProcessStat

pytestmark = pytest.mark.django_db


def test_synthetic_demo_stays_are_written_once_with_reserve_numbers_and_refreshed() -> None:
    assert load_statistics_demo(stays=300) == 300
    cases = Case.objects.count()
    synthetic = Person.objects.filter(given_name="Syntetisk", family_name="Person")
    assert synthetic.count() == 300 and not synthetic.exclude(id_kind=IdKind.RESERVE).exists()
    region = MonthlyProcessStat.objects.filter(level="region", key="vg")
    assert region.count() >= 12
    admissions = list(region.values_list("admissions", flat=True))
    assert 280 <= sum(admissions) <= 300 and min(admissions) >= 5  # no region month below the suppression
    assert load_statistics_demo(stays=300) == 0 and Case.objects.count() == cases  # idempotent


def test_the_payment_demo_settles_the_synthetic_month_and_keeps_its_invented_months(settings) -> None:  # type: ignore[no-untyped-def]
    settings.BRYGGA_DEMO_SYNTHETIC_STAYS = 600
    call_command("load_demo_data", verbosity=0)
    sources = set(SettlementRun.objects.values_list("source", flat=True))
    assert sources == {SettlementRun.Source.CASES, SettlementRun.Source.DEMO}
    from_cases = SettlementRun.objects.filter(source=SettlementRun.Source.CASES)
    assert from_cases.filter(lines__kind="average_member").exists()  # notices matched: stays counted
    assert SettlementRun.objects.filter(source=SettlementRun.Source.DEMO, year=2022, month=10).count() == 2
    runs = SettlementRun.objects.count()
    call_command("load_demo_data", verbosity=0)
    assert SettlementRun.objects.count() == runs
