"""Crash recovery for the background worker (issue 20 item 8, ADR 0809).

django-tasks' database worker marks a task RUNNING when it claims it and SUCCESSFUL or FAILED when it ends. A
worker killed in between (kill -9, out of memory, a lost host) leaves the task RUNNING for ever. brygga's
tasks are each atomic or idempotent (a settlement, a statistics refresh, a snapshot per unit commits whole or
not at all, and a retry does only what is missing), so the right recovery is to run such a task again, once.

``manage.py worker`` runs ``db_worker`` under a worker id ``<host>:<pid>`` after requeueing, on this host,
every RUNNING task whose worker process is gone; ``requeue_stale_tasks`` does the same on demand, and also
requeues a task RUNNING for longer than ``BRYGGA_TASK_STALE_MINUTES`` on any host."""

from __future__ import annotations

import datetime as dt
import os
import socket

from django.conf import settings
from django.utils import timezone


def worker_id(pid: int | None = None) -> str:
    return f"{socket.gethostname()[:40]}:{pid or os.getpid()}"


def _gone(worker: str) -> bool:
    """True when ``worker`` names a process on this host that no longer runs."""
    host, _sep, pid = worker.rpartition(":")
    if host != socket.gethostname()[:40] or not pid.isdecimal():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def requeue_stale(now: dt.datetime | None = None) -> list[str]:
    """Put back every RUNNING task whose worker died (this host) or that has run too long (any host); returns
    their ids. Each is requeued once: the update only touches a row that is still RUNNING."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    too_old = now - dt.timedelta(minutes=settings.BRYGGA_TASK_STALE_MINUTES)
    requeued = []
    for task in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING):
        last = task.worker_ids[-1] if task.worker_ids else ""
        if _gone(last) or (task.started_at is not None and task.started_at < too_old):
            changed = DBTaskResult.objects.filter(pk=task.pk, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.READY, started_at=None
            )
            if changed:
                requeued.append(str(task.pk))
    return requeued
