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
import copy
import datetime as dt
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, connections
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
    _REUSED.clear()


# Querysets compiled once per shape (ADR 0707). ``compiled`` above keeps a statement's text for raw SQL; these
# keep it together with the compiler's description of its columns, so the ORM still builds the model
# instances (select_related, annotations, converters, prefetch_related) from the rows.
_REUSED: dict[Hashable, _Shape] = {}
_INT_SENTINEL = 9_100_000_000_000_000_000  # within bigint, never an id or a count of this database
_STR_SENTINEL = "\u2983brygga-value:{}\u2984"


class _Shape:
    __slots__ = ("compiler", "slots", "sql", "template")

    def __init__(self, template: QuerySet[Any], compiler: Any, sql: str, slots: list[tuple[str, Any]]):
        self.template = template
        self.compiler = compiler
        self.sql = sql
        self.slots = slots


def _sentinels(values: dict[str, Any]) -> dict[str, Any]:
    """A stand-in per value, of its type and found nowhere else: ``build`` runs once with these and each
    parameter of the compiled statement that equals one becomes that value's slot."""
    stand_ins: dict[str, Any] = {}
    for n, (name, value) in enumerate(sorted(values.items())):
        if type(value) is int:
            stand_ins[name] = _INT_SENTINEL + n
        elif isinstance(value, str):
            stand_ins[name] = _STR_SENTINEL.format(name)
        else:
            # A bool, None, a date or a list changes the statement's text or is adapted on the way: part of
            # the key, or an ``at_run`` value.
            raise TypeError(f"reused(): value {name!r} must be an int or a str, not {type(value).__name__}")
    return stand_ins


def _shape(key: Hashable, build: Callable[..., QuerySet[Any]], values: dict[str, Any]) -> _Shape:
    stand_ins = _sentinels(values)
    template = build(**stand_ins)
    compiler = template.query.get_compiler(using=template.db)
    token = _FOR_REUSE.set(True)
    try:
        sql, params = compiler.as_sql()  # also fills the compiler's select, klass_info and col_count
    except EmptyResultSet:
        # Matches nothing by construction (``.none()``, an empty ``__in``): no statement, no rows.
        return _Shape(template, compiler, "", [])
    finally:
        _FOR_REUSE.reset(token)
    names = {v: k for k, v in stand_ins.items()}
    slots: list[tuple[str, Any]] = []
    for param in params:
        if isinstance(param, RunValue):
            slots.append(("run", param))
        elif type(param) in (int, str) and param in names:
            slots.append(("value", names[param]))
        elif isinstance(param, str) and "\u2983brygga-value:" in param:
            raise ValueError(f"reused({key!r}): a value is changed before it is bound ({param!r})")
        elif isinstance(param, (dt.date, dt.datetime)):
            # A moment kept in the text would be the first run's for every later one: ``at_run`` instead.
            raise ValueError(f"reused({key!r}): a moment is not an at_run value ({param!r})")
        else:
            slots.append(("const", param))
    unused = set(values) - {name for kind, name in slots if kind == "value"}
    if unused:
        raise ValueError(f"reused({key!r}): {sorted(unused)} not bound as they are (put them in the key)")
    return _Shape(template, compiler, sql, slots)


def reused(
    key: Hashable, build: Callable[..., QuerySet[Any]], now: dt.datetime | None = None, **values: Any
) -> list[Any]:
    """The rows of ``build(**values)``, compiled once per ``key`` in this process (ADR 0707). ``build`` must
    use each value only as a value of the statement (a filter's right-hand side, an annotation): whatever
    else shapes the statement belongs in ``key``. Values are ints or strs; a value of the clock is an
    ``at_run`` value computed from ``now``. With ``BRYGGA_CHECK_REUSED_STATEMENTS`` on (the test suite),
    every run is compared with the statement the ORM compiles from ``build(**values)`` itself."""
    full_key = (connection.vendor, connection.settings_dict.get("NAME"), key)
    shape = _REUSED.get(full_key)
    if shape is None:
        shape = _shape(key, build, values)
        if len(_REUSED) >= _CACHE_LIMIT:
            _REUSED.clear()
        _REUSED[full_key] = shape
    moment = now or _now()
    params = [
        values[item] if kind == "value" else item.value(moment) if kind == "run" else item
        for kind, item in shape.slots
    ]
    if _check_reused():
        try:
            fresh_sql, fresh_params = build(**values).query.sql_with_params()
        except EmptyResultSet:
            fresh_sql, fresh_params = "", ()
        if (fresh_sql, list(fresh_params)) != (shape.sql, params):
            raise AssertionError(
                f"reused({key!r}) differs from the ORM's statement:\n{fresh_sql}\n{shape.sql}"
            )
    if not shape.sql:
        return []
    queryset = shape.template.all()  # a copy: the template is never run
    queryset._known_related_objects = {}  # type: ignore[attr-defined]  # a related manager's stand-in object
    compiler = copy.copy(shape.compiler)
    compiler.connection = connections[queryset.db]  # this thread's connection, not the one it was built on
    sql = shape.sql
    compiler.as_sql = lambda *args, **kwargs: (sql, params)
    queryset.query.get_compiler = lambda *args, **kwargs: compiler  # type: ignore[method-assign]
    return list(queryset)


def reused_first(
    key: Hashable, build: Callable[..., QuerySet[Any]], now: dt.datetime | None = None, **values: Any
) -> Any | None:
    """The first row of ``reused(key, build, now, **values)``, or None when there is none. ``build`` slices
    its queryset to ``[:1]`` itself: the slice is part of the compiled statement."""
    found = reused(key, build, now, **values)
    return found[0] if found else None


_IDS_STEP = 10  # an ``__in`` of ids takes a multiple of this many values: one shape per step
_IDS_LIMIT = 200  # beyond this many ids a statement is compiled as usual (a batch, not a page)


def reused_in(
    key: Hashable,
    build: Callable[..., QuerySet[Any]],
    ids: Iterable[int],
    now: dt.datetime | None = None,
    **values: Any,
) -> list[Any]:
    """``reused`` for a statement with a list of ids (``build(ids, **values)``, the ids used only as an
    ``__in``'s values): one shape per step of ten ids. The ids, distinct and in their order, are padded with
    negative numbers, ids of nothing, each different so the ORM keeps a placeholder for each (it drops
    repeated values of an ``__in``). More than ``_IDS_LIMIT`` ids: compiled as usual."""
    distinct = list(dict.fromkeys(ids))
    if len(distinct) > _IDS_LIMIT:
        return list(build(distinct, **values))
    size = -(-len(distinct) // _IDS_STEP) * _IDS_STEP
    padded = [*distinct, *range(-1, len(distinct) - size - 1, -1)]
    names = [f"in_{n:04d}" for n in range(size)]

    def shaped(**given: Any) -> QuerySet[Any]:
        return build([given[name] for name in names], **{k: v for k, v in given.items() if k not in names})

    return reused((key, size), shaped, now, **dict(zip(names, padded, strict=True)), **values)


def _now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()


def _check_reused() -> bool:
    from django.conf import settings

    return bool(getattr(settings, "BRYGGA_CHECK_REUSED_STATEMENTS", False))
