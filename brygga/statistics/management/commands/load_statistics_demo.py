"""Opt-in demo data for the statistics pages: `manage.py load_statistics_demo [--cases 3000]` writes synthetic
stays (reserve numbers named "Syntetisk Person", no unit involved) over the last 12 months and refreshes the
summary tables. load_demo_data already adds 1 500 stays with participants (brygga/statistics/demo.py); this
adds more, without participants, for the statistics only."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from brygga.statistics import refresh as stats_refresh
from brygga.statistics import synthetic


class Command(BaseCommand):
    help = "Skapar syntetiska vårdtillfällen för statistiksidorna och räknar om statistiken."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, default=3000)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        first, last = stats_refresh.default_range()
        first = stats_refresh.next_month(first)  # the 12 months up to and including the current one
        counts = synthetic.generate(options["cases"], first, months=12, seed=options["seed"])
        run = stats_refresh.refresh(first, last)
        self.stdout.write(
            f"{counts['cases']} syntetiska vårdtillfällen, {counts['events']} händelser; "
            f"statistiken {run.first_month:%Y-%m}–{run.last_month:%Y-%m} har {run.rows} rader."
        )
