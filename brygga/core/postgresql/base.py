"""Django's PostgreSQL backend, with every ``timestamptz`` read by psycopg's C loader (ADR 0709, issue 17).

Django registers its own ``timestamptz`` loader on every connection: a subclass of psycopg's pure-Python
loader that replaces the value's zone with the connection's (Django ticket #36960). psycopg's C loader cannot
be subclassed, so every timestamp of every row was parsed in Python: 300 values took 2.9 ms, against 0.1 ms
in C (about the timestamps of one inbox page; docs/benchmarks.md).

When the session's time zone is UTC and Django's is UTC too (``USE_TZ`` and no ``TIME_ZONE`` for the
database, as here), psycopg's own loader already returns what Django's does: the value in UTC with
``datetime.timezone.utc``. Each cursor then gets psycopg's loader back, which psycopg maps to its C
implementation. In any other setting Django's loader stays, so the values are never in another zone."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.backends.postgresql import base
from psycopg.types.datetime import TimestamptzLoader

TIMESTAMPTZ_OID = base.TIMESTAMPTZ_OID


class DatabaseWrapper(base.DatabaseWrapper):
    # A connection's session zone is read once it is set up (``init_connection_state``), not per cursor.
    _utc_session = False

    def init_connection_state(self) -> None:
        super().init_connection_state()  # sets the session's zone to Django's (ensure_timezone)
        self._utc_session = self.session_in_utc()

    def session_in_utc(self) -> bool:
        """Whether psycopg's loader gives what Django's does: Django's zone and the session's both UTC."""
        return self.timezone is dt.UTC and self.connection.info.parameter_status("TimeZone") == "UTC"

    def create_cursor(self, name: Any = None) -> Any:
        cursor = super().create_cursor(name)
        if self._utc_session:
            # psycopg's own loader class, which the adapters map replaces by its C version when there is one.
            cursor.adapters.register_loader(TIMESTAMPTZ_OID, TimestamptzLoader)
        return cursor
