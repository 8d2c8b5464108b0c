"""Background task of the population register (django-tasks; run by `manage.py db_worker`)."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from brygga.people.register import refresh_stale_persons


@task()
def refresh_population_register_task(
    max_age_hours: int | None = None, limit: int | None = None
) -> dict[str, int]:
    """The scheduled refresh (``manage.py refresh_population_register --enqueue``); returns the summary."""
    return refresh_stale_persons(dt.timedelta(hours=max_age_hours) if max_age_hours else None, limit=limit)
