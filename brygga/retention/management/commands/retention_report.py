from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from brygga.retention.services import access_log_past_retention, expiring_report


def _next_month(today: dt.date) -> tuple[dt.date, dt.date]:
    first = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    after = (first + dt.timedelta(days=32)).replace(day=1)
    return first, after


class Command(BaseCommand):
    help = "Gallring: what reaches the end of its retention period next month, per rule, and what is held."

    def handle(self, *args: Any, **options: Any) -> None:
        first, after = _next_month(timezone.localdate())
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(first, dt.time(), tzinfo=tz)
        end = dt.datetime.combine(after, dt.time(), tzinfo=tz)
        self.stdout.write(f"Expiring {first:%Y-%m-%d} – {after - dt.timedelta(days=1):%Y-%m-%d}:")
        for line in expiring_report(start, end):
            self.stdout.write(
                f"- {line.kind.key} ({line.years} år; {line.legal_source}): {line.expiring}, "
                f"of which under legal hold {line.held}"
            )
        entries, segments = access_log_past_retention()
        self.stdout.write(
            f"- access_log: {entries} entries past their retention, filling {segments} whole sealed segments"
        )
