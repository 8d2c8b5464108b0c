"""The scheduled deletion job (django-tasks; cron runs `manage.py apply_retention --enqueue` nightly)."""

from __future__ import annotations

from django_tasks import task

from brygga.retention.services import apply_retention


@task()
def apply_retention_task() -> dict[str, int]:
    """Delete what has expired; returns how many records of each kind were deleted."""
    return dict(apply_retention().deleted)
