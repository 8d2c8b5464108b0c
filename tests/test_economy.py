"""Economy: financing keys, budget lines, population splits, monthly invoices and the seed budgets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from brygga.accounts.permissions import Role
from brygga.core.errors import DomainError, PermissionDenied
from brygga.economy import seeds, services
from brygga.economy.models import (
    Budget,
    BudgetLine,
    FinancingKey,
    Invoice,
    InvoicePeriod,
    Party,
    PartyShare,
    ResponsibilityObject,
)
from brygga.economy.money import largest_remainder, spread_over_months
from brygga.economy.services import KeyPartInput
from brygga.organisations.models import Municipality, Organisation, PopulationFigure
from tests.factories import actor

pytestmark = pytest.mark.django_db

GITS_UNIT = "GITS kansli"


def rules(exc: pytest.ExceptionInfo[DomainError]) -> set[str]:
    return {p.rule for p in exc.value.problems}


def complete_population_year(year: int) -> None:
    """A synthetic, complete population year for all 49 municipalities (the latest figure in the registry)."""
    for municipality in Municipality.objects.all():
        latest = municipality.population_figures.order_by("-year").first()
        assert latest is not None
        PopulationFigure.objects.update_or_create(
            municipality=municipality,
            year=year,
            defaults={
                "population": latest.population,
                "reference_date": dt.date(year, 12, 31),
                "source": "test",
            },
        )


@pytest.fixture
def gits():  # type: ignore[no-untyped-def]
    return actor(Role.GITS_COORDINATOR, GITS_UNIT)


@pytest.fixture
def key_70_30(gits):  # type: ignore[no-untyped-def]
    return services.save_financing_key(
        gits,
        "it-70-30",
        "IT 70/30",
        [KeyPartInput(Party.REGION, 70), KeyPartInput(Party.MUNICIPALITIES, 30)],
    )


def make_budget(gits, year: int = 2030, population_year: int | None = None) -> Budget:  # type: ignore[no-untyped-def]
    obj, _ = ResponsibilityObject.objects.get_or_create(
        code=f"test-{year}", defaults={"name": f"Test {year}"}
    )
    return services.create_budget(gits, obj, year, f"Test {year}", population_year=population_year)


# --- Money ------------------------------------------------------------------------------------------------


def test_largest_remainder_parts_sum_exactly_and_ties_go_to_the_earlier_part() -> None:
    assert largest_remainder(100, [("a", 1), ("b", 1), ("c", 1)]) == {"a": 34, "b": 33, "c": 33}
    split = largest_remainder(1_000_001, [(i, w) for i, w in enumerate([3, 7, 11, 13, 17])])
    assert sum(split.values()) == 1_000_001
    assert spread_over_months(100) == [9, 9, 9, 9, 8, 8, 8, 8, 8, 8, 8, 8]


# --- Keys (R-ECO-1) -----------------------------------------------------------------------------------------


def test_r_eco_1_key_not_summing_to_100_percent_is_refused_and_nothing_written(gits) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as exc:
        services.save_financing_key(
            gits, "fel", "Fel", [KeyPartInput(Party.REGION, 70), KeyPartInput(Party.MUNICIPALITIES, 20)]
        )
    assert rules(exc) == {"R-ECO-1"}
    assert "90" in exc.value.problems[0].message
    assert not FinancingKey.objects.filter(code="fel").exists()


def test_r_eco_1_other_financier_must_be_named(gits) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as exc:
        services.save_financing_key(gits, "x", "X", [KeyPartInput(Party.OTHER, 100)])
    assert exc.value.problems[0].field == "parts.0.financier"
    assert not FinancingKey.objects.filter(code="x").exists()


def test_only_the_economy_manager_may_change_keys() -> None:
    forum_member = actor(Role.FORUM_MEMBER, GITS_UNIT)
    with pytest.raises(PermissionDenied):
        services.save_financing_key(forum_member, "k", "K", [KeyPartInput(Party.REGION, 100)])
    assert not FinancingKey.objects.filter(code="k").exists()


# --- Lines (R-ECO-2, R-ECO-5) ---------------------------------------------------------------------------------


def test_r_eco_2_unfunded_line_is_flagged_not_balanced_and_blocks_invoices(gits, key_70_30) -> None:  # type: ignore[no-untyped-def]
    complete_population_year(2030)
    budget = make_budget(gits)
    services.add_line(gits, budget, "Drift", "1000000", key=key_70_30)
    services.add_line(gits, budget, "Portfölj", "500000")
    problems = services.budget_problems(budget)
    assert [(p.rule, "Portfölj" in p.message) for p in problems] == [("R-ECO-2", True)]
    budget.refresh_from_db()
    assert budget.total == Decimal("1500000.00")
    # Only the funded line has shares; the unfunded one is not silently spread over the parties.
    assert sum(s.amount for s in PartyShare.objects.filter(line__budget=budget)) == Decimal("1000000.00")
    with pytest.raises(DomainError) as exc:
        services.create_invoices(gits, budget, 1)
    assert rules(exc) == {"R-ECO-2"}
    assert not Invoice.objects.filter(budget=budget).exists()
    with pytest.raises(DomainError):
        services.adopt_budget(gits, budget)
    budget.refresh_from_db()
    assert budget.status == Budget.Status.DRAFT


@pytest.mark.parametrize("raw", ["-5", "10.005", "tio"])
def test_r_eco_5_amounts_are_whole_ore_and_not_negative(gits, key_70_30, raw: str) -> None:  # type: ignore[no-untyped-def]
    budget = make_budget(gits)
    with pytest.raises(DomainError) as exc:
        services.add_line(gits, budget, "Rad", raw, key=key_70_30)
    assert rules(exc) == {"R-ECO-5"}
    assert not BudgetLine.objects.filter(budget=budget).exists()


def test_swedish_amount_input_is_accepted() -> None:
    assert services.parse_amount("1 234,50") == Decimal("1234.50")


# --- Population (R-ECO-3) -------------------------------------------------------------------------------------


def test_r_eco_3_population_year_not_imported_is_refused(gits, key_70_30) -> None:  # type: ignore[no-untyped-def]
    budget = make_budget(gits, year=2031)
    line = services.add_line(gits, budget, "Drift", "1000000", key=key_70_30)
    with pytest.raises(DomainError) as exc:
        services.line_shares(line)
    assert rules(exc) == {"R-ECO-3"}
    assert exc.value.problems[0].field == "population_year"
    assert "2031" in exc.value.problems[0].message
    with pytest.raises(DomainError) as exc:
        services.create_invoices(gits, budget, 1)
    assert rules(exc) == {"R-ECO-3"}
    assert not Invoice.objects.exists()


def test_r_eco_3_the_reference_data_has_no_complete_population_year() -> None:
    """The registry's figures are of mixed dates (most 2024-12-31, some older): no year covers all 49."""
    for year in (2021, 2023, 2024, 2025):
        with pytest.raises(DomainError):
            services.population_weights(year)


def test_municipal_share_is_split_by_the_population_of_that_year(gits, key_70_30) -> None:  # type: ignore[no-untyped-def]
    complete_population_year(2030)
    gothenburg = Municipality.objects.get(scb_code="1480")
    PopulationFigure.objects.filter(municipality=gothenburg, year=2030).update(population=1_000_000)
    budget = make_budget(gits)
    line = services.add_line(gits, budget, "Drift", "1000000.00", key=key_70_30)
    rows = services.line_shares(line)
    municipal = [r for r in rows if r.party == Party.MUNICIPALITIES]
    assert len(municipal) == 49
    assert sum(r.ore for r in municipal) == 30_000_000  # 300 000 kr in öre
    assert sum(r.ore for r in rows) == 100_000_000
    total_pop = sum(PopulationFigure.objects.filter(year=2030).values_list("population", flat=True))
    gbg = next(r for r in municipal if r.organisation == gothenburg.organisation)
    assert abs(gbg.ore - 30_000_000 * 1_000_000 / total_pop) < 1


# --- Invoices (R-ECO-4, R-ECO-6) -------------------------------------------------------------------------------


def test_monthly_invoices_sum_exactly_every_month_and_every_party_over_the_year(gits, key_70_30) -> None:  # type: ignore[no-untyped-def]
    complete_population_year(2030)
    budget = make_budget(gits)
    # Amounts chosen so that nothing divides evenly: by 12 months, by 70/30, or by population.
    services.add_line(gits, budget, "Drift", "1000000.07", key=key_70_30)
    key_50 = services.save_financing_key(
        gits,
        "p-50",
        "Personal 50/50",
        [KeyPartInput(Party.REGION, 50), KeyPartInput(Party.MUNICIPALITIES, 50)],
    )
    services.add_line(gits, budget, "Personal", "333333.33", key=key_50)
    services.adopt_budget(gits, budget)  # R-ECO-7: invoices only from an adopted budget
    per_party: dict[str, Decimal] = {}
    for month in range(1, 13):
        invoices = services.create_invoices(gits, budget, month)
        assert len(invoices) == 50  # VGR + 49 municipalities
        month_total = sum(i.total for i in invoices)
        expected = sum(
            Decimal(spread_over_months(int(line.amount * 100))[month - 1]) / 100
            for line in budget.lines.all()
        )
        assert month_total == expected
        for invoice in invoices:
            assert invoice.total == sum(line.amount for line in invoice.lines.all())
            assert invoice.total >= 0
            per_party[invoice.recipient] = per_party.get(invoice.recipient, Decimal(0)) + invoice.total
    assert sum(per_party.values()) == Decimal("1333333.40")
    # Each party pays over the year exactly its yearly share.
    yearly: dict[str, Decimal] = {}
    for line in budget.lines.all():
        for r in services.line_shares(line):
            yearly[r.recipient] = yearly.get(r.recipient, Decimal(0)) + r.amount
    assert per_party == yearly


def test_r_eco_4_no_invoices_for_a_closed_period(gits, key_70_30) -> None:  # type: ignore[no-untyped-def]
    complete_population_year(2030)
    budget = make_budget(gits)
    services.add_line(gits, budget, "Drift", "120000", key=key_70_30)
    services.adopt_budget(gits, budget)
    first = services.create_invoices(gits, budget, 3)
    ids = sorted(i.pk for i in first)
    services.close_period(gits, 2030, 3)
    with pytest.raises(DomainError) as exc:
        services.create_invoices(gits, budget, 3)
    assert rules(exc) == {"R-ECO-4"}
    assert sorted(Invoice.objects.filter(period__month=3).values_list("pk", flat=True)) == ids
    with pytest.raises(DomainError) as exc:
        services.close_period(gits, 2030, 3)
    assert rules(exc) == {"R-ECO-4"}


def test_r_eco_6_month_outside_the_year_is_refused(gits, key_70_30) -> None:  # type: ignore[no-untyped-def]
    complete_population_year(2030)
    budget = make_budget(gits)
    services.add_line(gits, budget, "Drift", "120000", key=key_70_30)
    with pytest.raises(DomainError) as exc:
        services.create_invoices(gits, budget, 13)
    assert rules(exc) == {"R-ECO-6"}
    assert not InvoicePeriod.objects.filter(month=13).exists()


def test_reinvoicing_an_open_period_replaces_not_duplicates(gits, key_70_30) -> None:  # type: ignore[no-untyped-def]
    complete_population_year(2030)
    budget = make_budget(gits)
    services.add_line(gits, budget, "Drift", "120000", key=key_70_30)
    services.adopt_budget(gits, budget)
    services.create_invoices(gits, budget, 1)
    services.create_invoices(gits, budget, 1)
    assert Invoice.objects.filter(budget=budget).count() == 50


def test_surplus_is_redistributed_by_the_line_key_exactly(gits) -> None:  # type: ignore[no-untyped-def]
    key = services.save_financing_key(
        gits, "vk", "VGR/VästKom", [KeyPartInput(Party.REGION, 50), KeyPartInput(Party.VASTKOM, 50)]
    )
    budget = make_budget(gits)
    line = services.add_line(gits, budget, "SITHS-kort", "1000000", key=key)
    services.record_outcome(gits, line, 1, "900000.01")
    follow_up = services.outcome_against_budget(budget)
    assert follow_up[0].difference == Decimal("99999.99")
    rows = services.redistribution(line, follow_up[0].difference)
    assert sorted(r.amount for r in rows) == [Decimal("49999.99"), Decimal("50000.00")]


# --- The seed budgets --------------------------------------------------------------------------------------------


@pytest.fixture
def seeded(db):  # type: ignore[no-untyped-def]
    return seeds.load_seed_budgets()


def test_seed_001_shvo_2023_party_split_to_the_krona(seeded) -> None:  # type: ignore[no-untyped-def]
    budget = Budget.objects.get(responsibility_object__code="shvo", year=2023)
    assert budget.total == Decimal("14300000.00")
    columns = services.party_columns(budget)
    assert columns[Party.MUNICIPALITIES] == Decimal("5010000.00")
    assert columns[Party.REGION] == Decimal("9290000.00")
    for line in budget.lines.all():
        kommun, vgr = seeds.SHVO_2023_LINE_CELLS[line.name]
        shares = {s.party: s.amount for s in line.shares.all()}
        assert (shares[Party.MUNICIPALITIES], shares[Party.REGION]) == (Decimal(kommun), Decimal(vgr)), (
            line.name
        )
    # The table adds up; the only interpretation is the line without a key in §4.2 (noted on the line).
    assert seeds.reconcile(seeds.SHVO_2023) == []
    assert "ingen nyckel" in budget.lines.get(name="Möten, utbildning, kommunikation").note


def test_seed_003_gits_2025_party_split_to_the_krona(seeded) -> None:  # type: ignore[no-untyped-def]
    for row in seeds.GITS_2025.rows:
        computed = seeds.computed_row(seeds.GITS_2025, row)
        for col, stated in row.stated.items():
            if col == "budget" and stated is None:
                continue
            assert computed[col] == (stated or 0), (row.label, col)


def test_seed_003_every_inconsistency_is_named_with_its_reason(seeded) -> None:  # type: ignore[no-untyped-def]
    findings = {f.place: f for f in seeds.reconcile(seeds.GITS_2025)}
    assert set(findings) == {
        "SITIV Utvecklingsportfölj",
        "IoT projektledare / Budget",
        "TOTALT / Budget",
        "TOTALT / VGR",
        "TOTALT / finansiering mot budget",
    }
    assert "ofinansierad" in findings["SITIV Utvecklingsportfölj"].reason.lower() or "R-ECO-2" in (
        findings["SITIV Utvecklingsportfölj"].reason
    )
    assert findings["SITIV Utvecklingsportfölj"].stated == "11 060 000"
    assert findings["IoT projektledare / Budget"].computed == "1 500 000"
    # "37 513 000 49 573 000": the second is the column sum, the first leaves out the two SITHS rows (where
    # GITS only passes the money on, seed 003 §2.2).
    budget_total = [f for f in seeds.reconcile(seeds.GITS_2025) if f.place == "TOTALT / Budget"]
    assert {f.stated for f in budget_total} == {"37 513 000", "37 513 000 / 49 573 000"}
    typo = next(f for f in budget_total if f.stated == "37 513 000")
    assert "SITHS utveckling, Gemensam utgivning (SITHS)" in typo.reason
    # "16 749 000 18 249 000": with and without the IoT line that has no budget amount.
    vgr = [f for f in seeds.reconcile(seeds.GITS_2025) if f.place == "TOTALT / VGR"]
    assert any("IoT projektledare" in f.reason for f in vgr)
    gap = findings["TOTALT / finansiering mot budget"]
    assert (gap.stated, gap.computed) == ("49 573 000", "40 013 000")


def test_seed_003_flags_the_unfunded_portfolio_in_the_budget(seeded) -> None:  # type: ignore[no-untyped-def]
    budget = Budget.objects.get(responsibility_object__code="sitiv-utvecklingsportfolj", year=2025)
    assert [p.rule for p in services.budget_problems(budget)] == ["R-ECO-2"]


def test_seed_003_shvo_decomposition_is_the_only_one_the_stated_keys_allow(seeded) -> None:  # type: ignore[no-untyped-def]
    """Personnel P at 50/50 and systems S at 30/70 (VGK/VGR) must give Kommuner 4 780 000 of 14 780 000."""
    solutions = [p for p in range(0, 14_780_001, 10_000) if p * 5 + (14_780_000 - p) * 3 == 4_780_000 * 10]
    assert solutions == [1_730_000]


def test_seed_003_open_data_price_list_covers_the_line_exactly(seeded) -> None:  # type: ignore[no-untyped-def]
    budget = Budget.objects.get(responsibility_object__code="oppna-data", year=2025)
    assert services.budget_problems(budget) == []
    line = budget.lines.get(price_list__isnull=False)
    shares = services.line_shares(line)
    assert len(shares) == 24
    assert sum(s.amount for s in shares) == Decimal("744000.00")


def test_seed_loading_is_idempotent(seeded) -> None:  # type: ignore[no-untyped-def]
    before = (Budget.objects.count(), BudgetLine.objects.count(), PartyShare.objects.count())
    seeds.load_seed_budgets()
    assert (Budget.objects.count(), BudgetLine.objects.count(), PartyShare.objects.count()) == before


def test_seed_2025_invoices_go_to_vgr_vastkom_each_municipality_and_other(seeded, gits) -> None:  # type: ignore[no-untyped-def]
    complete_population_year(2025)
    budget = Budget.objects.get(responsibility_object__code="gits-overgripande", year=2025)
    services.adopt_budget(gits, budget)
    invoices = services.create_invoices(gits, budget, 1)
    assert {i.recipient for i in invoices} == {"VGR", "VästKom"}
    assert sum(i.total for i in invoices) == Decimal("243333.34")  # 2 920 000 / 12, first month takes the öre
    shvo = Budget.objects.get(responsibility_object__code="shvo", year=2025)
    services.adopt_budget(gits, shvo)
    invoices = services.create_invoices(gits, shvo, 12)
    assert len(invoices) == 51  # VGR, 49 municipalities, SITIV/annan finansiär
    expected = sum(Decimal(spread_over_months(int(line.amount * 100))[11]) / 100 for line in shvo.lines.all())
    assert sum(i.total for i in invoices) == expected
    assert Organisation.objects.filter(pk__in=[i.organisation_id for i in invoices]).count() == 50


@pytest.mark.parametrize("status", [Budget.Status.DRAFT, Budget.Status.ADOPTED])
def test_r_eco_7_invoices_only_from_an_adopted_budget(gits, key_70_30, status) -> None:  # type: ignore[no-untyped-def]
    """Money only from what was decided: a budget still a proposal ("Förslag") gives no invoice, refused with
    the rule named and nothing written; the adopted one (the decision path, adopt_budget) invoices."""
    complete_population_year(2030)
    budget = make_budget(gits)
    services.add_line(gits, budget, "Drift", "120000", key=key_70_30)
    if status == Budget.Status.ADOPTED:
        services.adopt_budget(gits, budget)
        assert len(services.create_invoices(gits, budget, 1)) == 50
        return
    with pytest.raises(DomainError) as exc:
        services.create_invoices(gits, budget, 1)
    assert rules(exc) == {"R-ECO-7"} and exc.value.problems[0].field == "budget"
    assert not Invoice.objects.filter(budget=budget).exists()
    budget.refresh_from_db()
    assert budget.status == Budget.Status.DRAFT
