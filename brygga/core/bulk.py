"""Writing many plain rows at once, without building a model instance per row (ADR 0203).

Django's ``bulk_create`` prepares every value of every instance in Python and psycopg then binds each of them
as a query parameter; for the 8 000 lines of a month's settlement that was about a third of the whole
settlement's time. On PostgreSQL ``insert_rows`` streams the rows with ``COPY … FROM STDIN`` through psycopg
instead (its adapters dump the values); on other databases (SQLite, the embedded default) it falls back to
``bulk_create``, so both paths are exercised by the test suite.

Only for rows a service has built and checked itself: no ``save()``, no signals and no field validation run.
A field left out gets the model's default (as a new instance would), or the database's ``db_default``; the
primary key is the database's. ``auto_now``/``auto_now_add`` are not applied on PostgreSQL: give such fields
explicitly. Runs inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connections, router
from django.db.models import Field, Model
from django.db.models.fields import NOT_PROVIDED

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
