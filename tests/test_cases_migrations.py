"""The inbox migration (cases 0003) on PostgreSQL with existing cases: it once failed there with "cannot CREATE
INDEX ... pending trigger events" (the fill updated rows the migration's transaction had already written, and
the index came after). Run against a throw-away database in a subprocess, because each migration must commit
on its own as `manage.py migrate` does; the test database's transaction would hide the failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
URL = os.environ.get("DATABASE_URL", "")

pytestmark = pytest.mark.skipif(not URL.startswith("postgres"), reason="PostgreSQL only")

SETUP = """
import datetime as dt
from django.utils import timezone
from brygga.accounts.context import Actor
from brygga.accounts.models import Membership, User
from brygga.accounts.permissions import Role
from brygga.cases import services
from brygga.core.identifiers import luhn_check_digit
from brygga.organisations.models import Unit
from brygga.access.persons import register_person
ward = Unit.objects.get(name='Sahlgrenska, medicinavdelning')
user = User.objects.create_user('migration-nurse', password='x')
nurse = Actor.for_membership(Membership.objects.create(user=user, unit=ward, role=Role.WARD_NURSE),
                             channel='command')
now = timezone.now()
for n, serial in enumerate((980, 981, 982)):
    person = register_person(f'19400101{serial}' + luhn_check_digit(f'400101{serial}'), 'Migra', 'Testsson', 'Gatan 1', '41301', 'Göteborg',
                             municipality_code='1480')
    case = services.admit(nurse, person, admitted_at=now - dt.timedelta(hours=30 + n), care_type='somatic',
                          expected_discharge_date=(now + dt.timedelta(days=3)).date(),
                          need_assessed_at=now - dt.timedelta(hours=30 + n))
    if n:
        services.send_admission_notice(nurse, case)
"""

CHECK = """
from brygga.cases.models import Participant
rows = Participant.objects.filter(role='ward')
print('ROWS', rows.count(), rows.filter(next_due_at__isnull=False).count(),
      rows.exclude(case_status='').count())
"""


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result.stdout


def test_inbox_migration_fills_existing_participants_on_postgresql(tmp_path: Path) -> None:
    base, _sep, _name = URL.rpartition("/")
    name = f"brygga_migration_{os.getpid()}"
    admin = [
        "psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-d", "postgres", "-c",
    ]  # fmt: skip
    subprocess.run([*admin, f"DROP DATABASE IF EXISTS {name}"], check=True)
    subprocess.run([*admin, f"CREATE DATABASE {name}"], check=True)
    env = {**os.environ, "DATABASE_URL": f"{base}/{name}", "BRYGGA_VAR_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    try:
        _manage(env, "migrate", "--noinput", "-v0")
        _manage(env, "load_reference_data", "-v0")
        _manage(env, "shell", "-c", SETUP)
        _manage(env, "migrate", "cases", "0002", "--noinput", "-v0")  # back to before the inbox columns
        _manage(env, "migrate", "--noinput", "-v0")  # and forward again, with the cases in place
        out = _manage(env, "shell", "-c", CHECK)
    finally:
        subprocess.run([*admin, f"DROP DATABASE IF EXISTS {name}"], check=False)
    total, with_due, with_status = (int(v) for v in out.split("ROWS", 1)[1].split())
    # Three wards rows; the one whose notice is overdue (R-INS-2) and the two with R-UTS-1 due have a due time.
    assert total == 3 and with_status == 3 and with_due == 3
