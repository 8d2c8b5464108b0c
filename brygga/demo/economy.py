"""Demo data for the economy: the seed budgets (SHVO 2023, GITS 2025) with their keys, and one complete
population year so the demo can invoice. Idempotent.

The registry file (organisations/data/vg-municipalities.csv, SCB figures) has 44 municipalities at 2024-12-31,
three at 2024-09-30, one at 2023-12-31 and one at 2021-12-31. The reference data stores each figure under the
year of its own date, so no year is complete (R-ECO-3 refuses, and keeps refusing in a real installation until
SCB's table is imported). The demo fills year 2024 for the two municipalities missing it with their latest
figure, each row keeping its real reference date and a source that says so, and lets the 2025 budgets split
the municipal share by population 2024-12-31 (the year-end before the budget year). The SHVO 2023 budget keeps
population year 2023, which is not complete: the demo shows the R-ECO-3 refusal there."""

from __future__ import annotations

import csv
import datetime as dt

from brygga.economy import services
from brygga.economy.models import Budget
from brygga.economy.seeds import load_seed_budgets
from brygga.organisations.models import Municipality, PopulationFigure
from brygga.organisations.services import MUNICIPALITIES_CSV

DEMO_POPULATION_YEAR = 2024


def load_demo_population(year: int = DEMO_POPULATION_YEAR) -> int:
    """Make ``year`` complete for all 49 from the registry file; returns how many figures were added."""
    by_code = {m.scb_code: m for m in Municipality.objects.all()}
    added = 0
    with MUNICIPALITIES_CSV.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            municipality = by_code.get(row["kommunkod"])
            if municipality is None or municipality.population_figures.filter(year=year).exists():
                continue
            reference_date = dt.date.fromisoformat(row["population_date"])
            PopulationFigure.objects.create(
                municipality=municipality,
                year=year,
                population=int(row["population"]),
                reference_date=reference_date,
                source=(
                    f"{row['population_source']}; närmaste tillgängliga siffra "
                    f"({reference_date:%Y-%m-%d}) används som {year} i demon"
                )[:300],
            )
            added += 1
    return added


def load_economy_demo() -> int:
    budgets = load_seed_budgets()
    load_demo_population()
    for budget in budgets:
        if (
            budget.year == DEMO_POPULATION_YEAR + 1
            and budget.population_year == budget.year
            and budget.status == Budget.Status.DRAFT
        ):
            services.set_population_year(None, budget, DEMO_POPULATION_YEAR)
    return len(budgets)
