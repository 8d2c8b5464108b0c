"""The rest-hook sender as a django-tasks task (run by ``manage.py db_worker``)."""

from __future__ import annotations

from django_tasks import task

from brygga.fhir.subscriptions import deliver


@task()
def deliver_notifications_task(subscription_id: int) -> int:
    """Deliver the subscription's due notifications in order; returns how many were delivered."""
    return deliver(subscription_id)
