"""Demo settlements. First from the demo discharge cases: the previous calendar month is settled from the
cases (services.run_settlement without facts) for every municipality that has stays in it (the demo cases and
the synthetic stays of brygga.demo.statistics). Socialstyrelsen's amount for recent years is not in the
reference data, so those runs show the R-BET-4 problem; the invented stays below are settled as well, stored
with source "Påhittade demovistelser" and case references DEMO-… (no persons): Göteborg and Borås, one month
with a known amount (October 2022) and one without (October 2025, amount unknown → reported), plus one open
dispute from Göteborg's contact point.
Idempotent: the same inputs return the stored runs."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from brygga.accounts.context import Actor
from brygga.accounts.models import Membership
from brygga.accounts.permissions import Role
from brygga.organisations.models import Municipality
from brygga.payment import adapter, services
from brygga.payment.engine import MonthSpan, local_date
from brygga.payment.facts import CareType, DischargeReadyPeriod, StayFacts
from brygga.payment.models import Dispute, SettlementRun

TZ = ZoneInfo("Europe/Stockholm")
# reference, municipality, notice day, discharge day, what is special about it
STAYS: list[tuple[str, str, int, int, str]] = [
    ("DEMO-01", "1480", 1, 3, ""),
    ("DEMO-02", "1480", 4, 9, ""),
    ("DEMO-03", "1480", 6, 10, ""),
    ("DEMO-04", "1480", 10, 10, ""),
    ("DEMO-05", "1480", 3, 17, "long"),
    ("DEMO-06", "1480", 12, 16, "no_admission_notice"),
    ("DEMO-07", "1480", 14, 25, "withdrawn"),
    ("DEMO-08", "1480", 20, 26, "sip_missing"),
    ("DEMO-09", "1490", 2, 8, ""),
    ("DEMO-10", "1490", 5, 7, ""),
    ("DEMO-11", "1490", 11, 21, "long"),
]


def _at(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=TZ)


def demo_facts(year: int, month: int) -> list[StayFacts]:
    facts = []
    for ref, code, notice_day, discharge_day, special in STAYS:
        admitted = _at(year, month, notice_day) - dt.timedelta(days=4)
        notice = _at(year, month, notice_day)
        periods = (DischargeReadyPeriod(notice - dt.timedelta(hours=1)),)
        if special == "withdrawn":
            periods = (DischargeReadyPeriod(notice - dt.timedelta(hours=1), notice + dt.timedelta(days=2)),)
        facts.append(
            StayFacts(
                case_reference=f"{ref}-{year}{month:02d}",
                municipality_code=code,
                care_type=CareType.SOMATIC,
                admitted_at=admitted,
                admission_notice_sent_at=None if special == "no_admission_notice" else admitted,
                discharge_ready=periods,
                discharge_ready_notice_sent_at=notice,
                discharged_at=_at(year, month, discharge_day, 14),
                sip_needed=special == "sip_missing",
                ward="Sahlgrenska, medicinavdelning",
            )
        )
    return facts


def load_payment_demo() -> int:
    """Returns the number of settlement runs the demo shows."""
    membership = Membership.objects.filter(user__username="gits", role=Role.GITS_COORDINATOR).first()
    if membership is None:
        return 0
    region = Actor.for_membership(membership, channel="command")
    count, _stays = _settle_demo_cases(region)
    for year, month in ((2022, 10), (2025, 10)):
        if MonthSpan.of(year, month).last >= timezone.localdate():
            continue  # a month is settled only once it has ended (R-VG-BET-1)
        facts = demo_facts(year, month)
        for code in ("1480", "1490"):
            municipality = Municipality.objects.get(scb_code=code)
            run = services.run_settlement(
                region, municipality, year, month, facts, source=SettlementRun.Source.DEMO
            )
            count += 1
            if code == "1480" and year == 2022:
                _demo_dispute(run)
    return count


def _settle_demo_cases(region: Actor) -> tuple[int, int]:
    """Settle the previous month from the cases for the municipalities with a stay discharged in it.
    Returns (runs, discharged stays)."""
    year, month = services.previous_month(timezone.localdate())
    span = MonthSpan.of(year, month)
    rules = [r.params() for r in services.current_rules()]
    runs = stays = 0
    for code, facts in adapter.by_municipality(year, month, rules):
        discharged = [f for f in facts if local_date(f.discharged_at) in span]
        if not discharged:
            continue
        municipality = Municipality.objects.get(scb_code=code)
        services.run_settlement(region, municipality, year, month, facts, source=SettlementRun.Source.CASES)
        runs += 1
        stays += len(discharged)
    return runs, stays


def _demo_dispute(run) -> None:  # type: ignore[no-untyped-def]
    contact = Membership.objects.filter(user__username="kontaktpunkt").first()
    line = run.lines.filter(kind="long_stay").first()
    if contact is None or line is None or Dispute.objects.filter(line__run=run).exists():
        return
    services.raise_dispute(
        Actor.for_membership(contact, channel="command"),
        run.pk,
        line.pk,
        "Patienten flyttade till särskilt boende i annan kommun under vistelsen; vi begär kontroll.",
    )
