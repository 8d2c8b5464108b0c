"""Statements compiled once per shape, the values that depend on the clock filled in at each run (ADR 0704).

Building the inbox's sources in the ORM and compiling their UNION cost more than running it: a fifth of the
inbox's server time went to ``filter``/``annotate``/``as_sql`` for a statement whose text is the same on every
request of a unit and view. Only a few of its values change between requests, and all of them are functions
of the clock: "overdue" is ``next_due_at < now``, "due soon" ``< now + 12 h``, an involvement is still open if
it ended after ``now - grace``…

A source writes such a value as ``at_run(now, compute, field)``. Compiled the usual way (every other use of
the source: the paginator, the SIP page, the API), it is the plain value ``compute(now)``. Compiled by
``compiled`` for reuse, it is a marker: the text and the other values are kept per process under the caller's
key, and each run computes the markers from its own ``now``. The key must name everything else the source
depends on (unit, role's permissions, filter, settings); a search text is never cached."""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Callable, Hashable
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import DateField, DateTimeField, Expression, Field, QuerySet

_FOR_REUSE: contextvars.ContextVar[bool] = contextvars.ContextVar("brygga_statement_for_reuse", default=False)
_CACHE: dict[Hashable, tuple[str, tuple[Any, ...]] | None] = {}
_CACHE_LIMIT = 4096  # shapes × units of one process; cleared whole when full (rebuilding one is cheap)


class RunValue:
    """A marker in a compiled statement's parameters: the value ``compute(now)`` of the run, prepared for
    the database as ``field`` would prepare it."""

    __slots__ = ("compute", "field")

    def __init__(self, compute: Callable[[dt.datetime], Any], field: Field[Any, Any]) -> None:
        self.compute = compute
        self.field = field

    def value(self, now: dt.datetime) -> Any:
        return self.field.get_db_prep_value(self.compute(now), connection, prepared=False)


class AtRun(Expression):
    """A value computed from the statement's ``now`` (see the module's docstring)."""

    def __init__(
        self, now: dt.datetime, compute: Callable[[dt.datetime], Any], output_field: Field[Any, Any]
    ):
        super().__init__(output_field=output_field)
        self.now = now
        self.compute = compute

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        marker = RunValue(self.compute, self.output_field)
        return "%s", (marker if _FOR_REUSE.get() else marker.value(self.now),)

    def get_group_by_cols(self) -> list[Any]:
        return []


def at_run(now: dt.datetime, compute: Callable[[dt.datetime], Any], field: Field[Any, Any]) -> AtRun:
    return AtRun(now, compute, field)


def moment(now: dt.datetime, offset: dt.timedelta | Callable[[], dt.timedelta] = dt.timedelta()) -> AtRun:
    """``now + offset`` as a value of the statement (``offset`` a callable when it comes from settings)."""
    if callable(offset):
        get = offset
        return AtRun(now, lambda n: n + get(), DateTimeField())
    return AtRun(now, lambda n: n + offset, DateTimeField())


def day(now: dt.datetime, offset: dt.timedelta = dt.timedelta()) -> AtRun:
    """The local date of ``now + offset`` as a value of the statement."""
    from django.utils import timezone

    return AtRun(now, lambda n: timezone.localdate(n + offset), DateField())


def compiled(
    key: Hashable, build: Callable[[], QuerySet[Any]], now: dt.datetime
) -> tuple[str, list[Any]] | None:
    """The SQL and parameters of ``build()``'s statement at ``now``: compiled once per ``key`` in this
    process, the ``at_run`` values computed anew on every call. ``None`` when the statement matches nothing
    by construction (the ORM's EmptyResultSet)."""
    full_key = (connection.vendor, connection.settings_dict.get("NAME"), key)
    if full_key in _CACHE:
        entry = _CACHE[full_key]
    else:
        token = _FOR_REUSE.set(True)
        try:
            sql, params = build().query.sql_with_params()
            entry = (sql, tuple(params))
        except EmptyResultSet:
            entry = None
        finally:
            _FOR_REUSE.reset(token)
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[full_key] = entry
    if entry is None:
        return None
    sql, params = entry
    return sql, [p.value(now) if isinstance(p, RunValue) else p for p in params]


def forget() -> None:
    """Drop every compiled statement of this process (tests, so each starts from the ORM)."""
    _CACHE.clear()
