"""Demo volume for the statistics and payment pages: the handful of demo cases would leave every chart
suppressed (counts under 5, ADR 0211), so `load_demo_data` adds synthetic stays over the last twelve months
(`brygga.statistics.synthetic` with ``participants=True``: ward, contact point and vårdcentral as the services
write them, so the stays also settle as payment would settle them) and refreshes the statistics.

The persons are reserve numbers named "Syntetisk Person" (no real or test personnummer). Idempotent: the
stays are written once (their generating user, ``syntetisk-statistik``, marks that they exist); the refresh
runs every time."""

from __future__ import annotations

from django.conf import settings

from brygga.accounts.models import User
from brygga.inbox.refresh import refresh_inbox
from brygga.statistics import refresh as stats_refresh
from brygga.statistics import synthetic


def load_statistics_demo(stays: int | None = None) -> int:
    """Returns the number of stays written now (0 when they were already there). ``stays`` defaults to the
    setting BRYGGA_DEMO_SYNTHETIC_STAYS (1 500; the unit tests set 0 to keep the demo fixture fast)."""
    stays = settings.BRYGGA_DEMO_SYNTHETIC_STAYS if stays is None else stays
    first, last = stats_refresh.default_range()
    first = stats_refresh.next_month(first)  # the twelve months up to and including the current one
    written = 0
    if stays > 0 and not User.objects.filter(username=synthetic.SYNTHETIC_USERNAME).exists():
        written = synthetic.generate(stays, first, months=12, seed=2026, participants=True)["cases"]
        refresh_inbox()  # the stays were written around the services: their inbox columns (ADR 0105)
    stats_refresh.refresh(first, last)
    return written
