"""Issue 20 item 2: every operation of the OpenAPI document has a test that calls it successfully.

A pytest plugin (loaded by tests/conftest.py) notes every API request the suite's in-process clients get a
2xx answer to, as ``(method, route)``. ``tests/test_api_coverage.py`` runs last and compares the notes with the
document; it only judges when the whole suite was collected (a partial run proves nothing about coverage)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.urls import Resolver404, resolve

API_PREFIX = "/api/v1/"
TESTS = Path(__file__).resolve().parent
GUARD_MODULE = "test_api_coverage.py"

# (METHOD, route pattern as Django resolves it), e.g. ("GET", "api/v1/cases/<int:case_id>").
SUCCESSFUL: set[tuple[str, str]] = set()
STATE: dict[str, Any] = {"whole_suite": False}


def route_of(path: str) -> str | None:
    try:
        return str(resolve(path).route)
    except Resolver404:
        return None


def documented_operations() -> dict[tuple[str, str], str]:
    """``(METHOD, route) -> "METHOD /api/v1/path/{id}"`` for every operation of the OpenAPI document."""
    from brygga.api.api import api

    operations: dict[tuple[str, str], str] = {}
    for path, methods in api.get_openapi_schema(path_prefix="/api/v1")["paths"].items():
        route = route_of(re.sub(r"\{[^}]+\}", "1", path))
        for method in methods:
            operations[(method.upper(), route or path)] = f"{method.upper()} {path}"
    return operations


def _record(request: Any, response: Any) -> None:
    if not request.path.startswith(API_PREFIX) or not 200 <= response.status_code < 300:
        return
    route = route_of(request.path_info)
    if route is not None:
        SUCCESSFUL.add((request.method, route))


def pytest_configure(config: pytest.Config) -> None:
    from django.core.handlers.base import BaseHandler

    original = BaseHandler.get_response
    if getattr(original, "_records_api_calls", False):
        return

    def get_response(self: BaseHandler, request: Any) -> Any:
        response = original(self, request)
        _record(request, response)
        return response

    get_response._records_api_calls = True  # type: ignore[attr-defined]
    BaseHandler.get_response = get_response  # type: ignore[method-assign]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    STATE["collected"] = list(items)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Run the guard last, and tell it whether this run is the whole suite: every test module collected and
    nothing deselected but browser tests (``-m "not browser"``), which do not call the API in process."""
    items = session.items
    guard = [item for item in items if item.path.name == GUARD_MODULE]
    if not guard:
        return
    for item in guard:
        items.remove(item)
    items.extend(guard)
    collected: list[pytest.Item] = STATE.get("collected", [])
    kept = {id(item) for item in items}
    deselected = [item for item in collected if id(item) not in kept]
    modules = {p.resolve() for p in TESTS.glob("test_*.py")}
    STATE["whole_suite"] = modules <= {item.path.resolve() for item in collected} and all(
        item.get_closest_marker("browser") for item in deselected
    )
