"""Writing many plain rows at once, without building a model instance per row (ADR 0203).

Django's ``bulk_create`` prepares every value of every instance in Python and psycopg then binds each of them
as a query parameter; for the 8 000 lines of a month's settlement that was about a third of the whole
settlement's time. On PostgreSQL ``insert_rows`` streams the rows with ``COPY … FROM STDIN`` through psycopg
instead (its adapters dump the values); on other databases (SQLite, the embedded default) it falls back to
``bulk_create``, so both paths are exercised by the test suite.

Only for rows a service has built and checked itself: no ``save()``, no signals, no ``auto_now`` and no field
validation run, and defaults are the database's (a column left out must have a database default or be the
primary key). Runs inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connections, router
from django.db.models import Model

SQLITE_BATCH = 500  # SQLite's limit on bound parameters per statement is reached with wide rows otherwise


def insert_rows(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert ``rows`` (values in the order of ``fields``, model field names; a foreign key takes the id)
    and return how many were written."""
    opts = model._meta
    concrete = [opts.get_field(name) for name in fields]
    connection = connections[router.db_for_write(model)]
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in concrete)  # type: ignore[union-attr]
        written = 0
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY {quote(opts.db_table)} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                written += 1
        return written
    attnames = [field.attname for field in concrete]  # type: ignore[union-attr]
    objects = [model(**dict(zip(attnames, row, strict=True))) for row in rows]
    model._default_manager.bulk_create(objects, batch_size=SQLITE_BATCH)  # type: ignore[attr-defined]
    return len(objects)
