"""Background task for the statistics refresh (django-tasks; run by `manage.py db_worker`).

Scheduled by cron: `manage.py update_statistics --enqueue` nightly (docs/statistics.md)."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from brygga.statistics import refresh as stats_refresh


@task()
def update_statistics_task(
    first_month: str | None = None, last_month: str | None = None
) -> dict[str, object]:
    """Recompute the given months (ISO dates of any day in them), by default the last 13 months."""
    first, last = stats_refresh.default_range()
    if first_month:
        first = dt.date.fromisoformat(first_month)
    if last_month:
        last = dt.date.fromisoformat(last_month)
    run = stats_refresh.refresh(first, last)
    return {"first": f"{run.first_month:%Y-%m}", "last": f"{run.last_month:%Y-%m}", "rows": run.rows}
