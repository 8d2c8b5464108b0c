"""Background task for the scheduled monthly settlement (django-tasks; run by `manage.py db_worker`).

Scheduled by cron on the first days of every month: `manage.py settle_last_month --user <user> [--enqueue]`
(docs/operations.md shows the crontab). django-tasks has no periodic tasks of its own."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from brygga.payment import downloads, services


@task()
def settle_last_month_task(username: str, today: str | None = None) -> dict[str, object]:
    """Settle the previous calendar month for all municipalities from the cases, as ``username`` (who needs
    payment.manage). Idempotent (services.settle_last_month)."""
    actor = services.manager_actor(username)
    result = services.settle_last_month(actor, dt.date.fromisoformat(today) if today else None)
    return {
        "period": f"{result.year}-{result.month:02d}",
        "created": [r.pk for r in result.created],
        "already_settled": len(result.already_settled),
        "problems": sum(len(r.problems) for r in result.created),
    }


@task()
def build_export_task(export_id: int) -> dict[str, object]:
    """Build one requested invoice-basis file (payment.downloads.build_export; idempotent)."""
    export = downloads.build_export(export_id)
    return {"export": export_id, "status": export.status if export else "missing"}
