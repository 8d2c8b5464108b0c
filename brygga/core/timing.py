"""``Server-Timing`` for measurement (ADR 0700): with ``BRYGGA_SERVER_TIMING=1`` every response carries
``Server-Timing: app;dur=<ms>, db;dur=<ms>;desc="<n> queries"``, the time the request spent inside Django
and the part of it spent in SQL (including COMMIT). The load benchmark reads it to put each page's server
time next to its SQL time without a profiler. Off by default: timings are of no use to users and need not
be public."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponse


class _QueryClock:
    def __init__(self) -> None:
        self.seconds = 0.0
        self.count = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


class ServerTimingMiddleware:
    """Outermost middleware, so ``app`` covers every other middleware, the view and the template."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        clock = _QueryClock()
        started = time.perf_counter()
        wrappers = [c.execute_wrapper(clock) for c in connections.all(initialized_only=False)]
        for wrapper in wrappers:
            wrapper.__enter__()
        try:
            response = self.get_response(request)
            if getattr(response, "streaming", False):
                return response  # its body is produced after this returns: no honest total to give
        finally:
            for wrapper in reversed(wrappers):
                wrapper.__exit__(None, None, None)
        app_ms = (time.perf_counter() - started) * 1000
        response["Server-Timing"] = (
            f'app;dur={app_ms:.1f}, db;dur={clock.seconds * 1000:.1f};desc="{clock.count} queries"'
        )
        return response
