"""Writing and reading many plain rows at once, without building a model instance per row (ADR 0203).

Django's ``bulk_create`` prepares every value of every instance in Python and psycopg then binds each of them
as a query parameter; for the 8 000 lines of a month's settlement that was about a third of the whole
settlement's time. On PostgreSQL ``insert_rows`` streams the rows with ``COPY … FROM STDIN`` through psycopg
instead (its adapters dump the values); on other databases (SQLite, the embedded default) it falls back to
``bulk_create``, so both paths are exercised by the test suite.

Only for rows a service has built and checked itself: no ``save()``, no signals and no field validation run.
A field left out gets the model's default (as a new instance would), or the database's ``db_default``; the
primary key is the database's. ``auto_now``/``auto_now_add`` are not applied on PostgreSQL: give such fields
explicitly. Runs inside the caller's transaction.

Reading: ``id_set(ids)`` passes a list of ids as one query parameter (``field__in=id_set(ids)``) instead of
one placeholder per id, and ``utc_text``/``parse_utc`` read timestamps as text and parse them with
``datetime.fromisoformat`` (see their docstrings for why)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connections, router
from django.db.models import Field, Model, TextField
from django.db.models.expressions import RawSQL
from django.db.models.fields import NOT_PROVIDED
from django.db.models.functions import Cast

SQLITE_BATCH = 500  # SQLite's limit on bound parameters per statement is reached with wide rows otherwise


def insert_rows(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert ``rows`` (values in the order of ``fields``, model field names; a foreign key takes the id)
    and return how many were written."""
    opts = model._meta
    given: list[Field[Any, Any]] = []
    for name in fields:
        field = opts.get_field(name)
        if not isinstance(field, Field) or field.column is None:
            raise ValueError(f"{model.__name__}.{name} is not a column")
        given.append(field)
    defaults: list[Field[Any, Any]] = [
        field
        for field in opts.concrete_fields
        if not field.primary_key and field not in given and field.db_default is NOT_PROVIDED
    ]
    concrete = given + defaults
    tail = tuple(field.get_default() for field in defaults)
    rows = (tuple(row) + tail for row in rows) if tail else rows
    connection = connections[router.db_for_write(model)]
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        columns = ", ".join(quote(str(field.column)) for field in concrete)
        written = 0
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY {quote(opts.db_table)} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                written += 1
        return written
    attnames = [field.attname for field in concrete]
    objects = [model(**dict(zip(attnames, row, strict=True))) for row in rows]
    model._default_manager.bulk_create(objects, batch_size=SQLITE_BATCH)  # type: ignore[attr-defined]
    return len(objects)


def id_set(ids: Sequence[int], using: str = "default") -> RawSQL:
    """``ids`` as a subquery with a single parameter, for ``field__in=id_set(ids)``: an array on PostgreSQL,
    a JSON array on SQLite. A plain ``__in`` list binds one parameter per id, and psycopg parses the query
    text for each of them on the client: for the 10 000 cases of a month's settlement that parsing alone
    took longer than the index lookups it fed."""
    values = [int(i) for i in ids]
    if connections[using].vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (values,))
    return RawSQL("SELECT value FROM json_each(%s)", (json.dumps(values),))


def utc_text(field: str) -> Cast:
    """A timestamp column read as text, to be parsed by ``parse_utc``. Django's PostgreSQL loader for
    ``timestamptz`` is written in Python (a regular expression per value, then a tzinfo replaced); for the
    tens of thousands of timestamps a bulk read needs it cost more than the query, while
    ``datetime.fromisoformat`` over the text (C) takes a twentieth of that."""
    return Cast(field, output_field=TextField())


def parse_utc(value: str | None) -> dt.datetime | None:
    """An aware datetime from ``utc_text``'s text: PostgreSQL gives the session's offset (``+00``), SQLite
    Django's naive UTC."""
    if value is None:
        return None
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)
