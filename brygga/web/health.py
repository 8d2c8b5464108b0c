"""``/healthz`` (liveness) and ``/readyz`` (readiness) answered before the session, authentication and the
request transaction (ADR 0701): a load balancer's probe costs one ``SELECT 1`` whatever cookies it carries,
and a probe never queues behind the work of reading a session and the user's memberships.

- ``/healthz``: the process answers and the database is reachable (``SELECT 1``); 503 when it is not.
- ``/readyz``: additionally every migration on disk is applied to the database (a process started before
  ``migrate`` finished must not take traffic). Checked against the database until it has been true once in
  this process, then only the database is asked again (migrations do not un-apply under a running process)."""

from __future__ import annotations

from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.http import HttpRequest, HttpResponse, JsonResponse

PATHS = {"/healthz", "/readyz"}
_migrated = False


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True
    except Exception:  # noqa: BLE001 — any database failure means "down", and must not raise here
        return False


def _migrations_applied() -> bool:
    global _migrated
    if _migrated:
        return True
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:  # noqa: BLE001 — cannot tell: not ready
        return False
    _migrated = not pending
    return _migrated


def health(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):  # load balancers probe with GET or HEAD; nothing else
        response = HttpResponse(status=405)
        response["Allow"] = "GET, HEAD"
        return response
    database = _database_ok()
    body: dict[str, str] = {
        "status": "ok" if database else "degraded",
        "database": "ok" if database else "unavailable",
        "vendor": connection.vendor,
    }
    ok = database
    if request.path == "/readyz":
        migrations = database and _migrations_applied()
        body["migrations"] = "applied" if migrations else "pending"
        ok = database and migrations
        body["status"] = "ready" if ok else "not ready"
    return JsonResponse(body, status=200 if ok else 503)


class HealthMiddleware:
    """Answers the two probe paths itself; everything else passes through untouched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path in PATHS:
            return health(request)
        return self.get_response(request)
