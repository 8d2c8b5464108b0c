"""On PostgreSQL the values are bound by the server and a statement run a second time on a connection is
prepared (settings.py, docs/benchmarks.md): PostgreSQL plans the case page's and the inbox's statements once
per connection instead of at every request. On SQLite there is nothing to prepare."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.db import connection

from brygga.accounts.permissions import Role
from brygga.cases.models import Case
from tests.factories import actor, make_person

pytestmark = pytest.mark.django_db

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@needs_postgresql
def test_a_statement_run_twice_is_prepared_and_gives_the_same_rows() -> None:
    ward = actor(Role.WARD_NURSE)
    person = make_person()
    before = _prepared_statements()
    # The same statement with other values each time: a prepared statement is reused with new values.
    found = [
        list(Case.objects.filter(person=person, ward=ward.unit).values_list("pk", flat=True)) for _ in "ab"
    ]
    other = list(Case.objects.filter(person_id=-1, ward=ward.unit).values_list("pk", flat=True))
    prepared = [s for s in _prepared_statements() if s not in before]
    assert found == [[], []] and other == []
    assert any('FROM "cases_case"' in s and "$1" in s for s in prepared), prepared


@pytest.mark.parametrize(("value", "prepared"), [("0", False), ("1", True), (None, True)])
def test_the_setting_turns_it_off_for_a_connection_pooler(value: str | None, prepared: bool) -> None:
    """BRYGGA_DB_PREPARED=0 (behind a pooler in transaction mode) binds on the client and prepares nothing;
    the default and 1 prepare. Read from a fresh process, as at start-up."""
    env = {**os.environ, "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x"}
    env.pop("BRYGGA_DB_PREPARED", None)
    if value is not None:
        env["BRYGGA_DB_PREPARED"] = value
    code = (
        "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'brygga.settings'); "
        "from django.conf import settings; o = settings.DATABASES['default'].get('OPTIONS', {}); "
        "print(o.get('server_side_binding'), o.get('prepare_threshold'))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == (["True", "2"] if prepared else ["None", "None"])
