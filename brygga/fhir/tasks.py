"""The rest-hook sender as a django-tasks task (run by ``manage.py db_worker``)."""

from __future__ import annotations

from django_tasks import task

from brygga.fhir.subscriptions import deliver


@task()
def deliver_notifications_task(subscription_id: int) -> int:
    """Deliver the subscription's due notifications in order; returns how many were delivered."""
    return deliver(subscription_id)


@task()
def heartbeat_task(subscription_id: int) -> None:
    """One link of a subscription's heartbeat chain: send what is due and schedule the next link."""
    from brygga.fhir.subscriptions import schedule_heartbeat, send_heartbeats

    at = send_heartbeats(subscription_id)
    if at is not None:
        schedule_heartbeat(subscription_id, at)
