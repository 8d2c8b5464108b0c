"""The PostgreSQL backend reads timestamps with psycopg's C loader (ADR 0709, issue 17), and gives exactly the
values Django's own loader gave: the same instants, in UTC, with ``datetime.timezone.utc``."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader

from brygga.core.postgresql.base import DatabaseWrapper

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's timestamptz loader"),
]

# Microseconds, before 1970, both sides of a daylight-saving change, years far apart, another offset.
STAMPS = [
    "2026-12-07 10:00:00.123456+00",
    "1969-12-31 23:59:59.999999+00",
    "2026-03-29 00:59:59+00",
    "2026-03-29 01:00:00+00",
    "2026-10-25 00:30:00+00",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
    "2026-06-01 12:00:00+02",
    "2026-06-01 12:00:00-09:30",
]


def _read(cursor: Any) -> list[dt.datetime]:
    cursor.execute(
        "SELECT stamp::timestamptz FROM unnest(%s::text[]) WITH ORDINALITY AS s(stamp, n) ORDER BY n",
        [STAMPS],
    )
    return [row[0] for row in cursor.fetchall()]


def test_a_cursor_reads_timestamps_in_c_with_the_values_djangos_loader_gave() -> None:
    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(1184, 0)  # timestamptz, text
        ours = _read(cursor)
        register_tzloader(connection.timezone, cursor.cursor)  # Django's own loader on this cursor
        djangos = _read(cursor)
    assert loader.__module__.startswith("psycopg_binary"), loader
    assert ours == djangos
    assert [v.tzinfo for v in ours] == [dt.UTC] * len(STAMPS)
    assert [v.utcoffset() for v in ours] == [v.utcoffset() for v in djangos]
    assert ours[0] == dt.datetime(2026, 12, 7, 10, 0, 0, 123456, tzinfo=dt.UTC)
    assert ours[-1] == dt.datetime(2026, 6, 1, 21, 30, tzinfo=dt.UTC)


def test_a_session_in_another_zone_keeps_djangos_loader() -> None:
    """Only a UTC session gives what Django's loader gives: in another zone the C loader would return the
    session's zone, so each cursor keeps Django's loader."""
    backend = cast(DatabaseWrapper, connection)
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Europe/Stockholm'")
    try:
        in_utc = backend.session_in_utc()
        backend._utc_session = in_utc  # as init_connection_state decides for such a session
        with connection.cursor() as cursor:
            loader = cursor.cursor.adapters.get_loader(1184, 0)
    finally:
        connection.init_connection_state()  # the session back in UTC, and the decision made again
    assert in_utc is False
    assert not loader.__module__.startswith("psycopg_binary")
    assert loader.timezone is dt.UTC
    assert backend.session_in_utc() and backend._utc_session
