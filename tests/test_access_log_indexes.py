"""The access log is written on every page a user opens, so each of its indexes costs on every page (issue 17):
none may be a duplicate of another, and the lookups the log's search and the review make still have one."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def _indexes() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "access_accesslogentry")
    return {name: c["columns"] for name, c in constraints.items() if c["index"] and not c["primary_key"]}


def test_no_index_of_the_access_log_is_served_by_another() -> None:
    indexes = _indexes()
    covered = [
        (name, other)
        for name, columns in indexes.items()
        for other, longer in indexes.items()
        if other != name and len(longer) > len(columns) and longer[: len(columns)] == columns
    ]
    assert covered == []
    # Two indexes on the same columns (PostgreSQL's pattern index for LIKE beside the plain one): none.
    same = sorted(tuple(c) for c in indexes.values())
    assert len(same) == len(set(same)), indexes


def test_the_log_s_lookups_still_have_an_index() -> None:
    """By person and by user with time (a person's or a user's log), by time, by unit, by the number
    searched for, and the review's sample of reads without involvement."""
    leading = {tuple(columns[:2]) for columns in _indexes().values()} | {
        (columns[0],) for columns in _indexes().values()
    }
    for wanted in [
        ("person_id", "at"),
        ("user_id", "at"),
        ("at",),
        ("unit_id",),
        ("person_identifier",),
        ("had_involvement", "at"),
    ]:
        assert wanted in leading, wanted


def _constraints() -> dict[str, Any]:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, "access_accesslogentry")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite keeps them (ADR 0708)")
def test_an_entry_s_user_unit_and_person_are_not_checked_at_commit() -> None:
    """ADR 0708: no foreign-key constraint on the access log in PostgreSQL (each was a check and a row lock at
    commit, for every entry); the append-only triggers (R-LOG-1) are still there."""
    foreign = [name for name, c in _constraints().items() if c["foreign_key"]]
    assert foreign == []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'access_accesslogentry'::regclass AND NOT tgisinternal"
        )
        triggers = {row[0] for row in cursor.fetchall()}
    assert {"access_log_no_update", "access_log_guarded_delete", "access_log_no_truncate"} <= triggers
