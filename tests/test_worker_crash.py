"""Issue 20 item 8: a kill -9 of the background worker in the middle of a task leaves nothing half-done, and
the task runs again exactly once when a worker starts (``manage.py worker`` requeues what a dead worker on
this host left RUNNING; ADR 0809). Real worker processes on a real database file: each task is stopped inside
its open transaction (at its first write, tests/worker_pause), killed with SIGKILL, and run again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="kill -9 of a child process")


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("worker")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings_worker",
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "BRYGGA_VAR_DIR": str(folder / "var"),
        "BRYGGA_DOCUMENT_STORAGE_OPTIONS": json.dumps({"location": str(folder / "documents")}),
        "BRYGGA_DEMO_SYNTHETIC_STAYS": "0",
        "BRYGGA_ACCESS_LOG_ANCHOR": "",
        "BRYGGA_TASK_BACKEND": "django_tasks_db.DatabaseBackend",
    }
    for args in (["migrate", "--noinput", "-v0"], ["load_reference_data"], ["load_demo_data"]):
        _manage(env, *args)
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result.stdout


def _python(env: dict[str, str], code: str) -> Any:
    """Run ``code`` in the installation; it sets ``out``, which comes back as JSON."""
    wrapped = f"import json\nout = None\n{code}\nprint('JSON' + json.dumps(out, default=str))"
    output = _manage(env, "shell", "-c", wrapped)
    return json.loads(output.rsplit("JSON", 1)[1])


def _count(env: dict[str, str], table: str) -> int:
    code = f"""
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute('SELECT COUNT(*) FROM "{table}"')
    out = cursor.fetchone()[0]
"""
    return int(_python(env, code))


def _crash_then_retry(env: dict[str, str], enqueue: str, table: str, tmp_path: Path) -> dict[str, Any]:
    before = _count(env, table)
    task_id = _python(env, f"{enqueue}\nout = str(queued.id)")
    marker = tmp_path / f"paused-{table}"
    paused = {
        **env,
        "BRYGGA_TEST_PAUSE_SQL": f'INSERT INTO "{table}"',
        "BRYGGA_TEST_PAUSE_MARKER": str(marker),
    }
    worker = subprocess.Popen(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "worker", "--interval", "0.2"],
        cwd=ROOT,
        env=paused,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert worker.poll() is None, "the worker ended before the task wrote anything"
            assert time.monotonic() < deadline, "the task never reached its first write"
            time.sleep(0.2)
        os.kill(worker.pid, signal.SIGKILL)  # in the middle of the task, its transaction open
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    state = f"""
from django.db import connection
from django_tasks_db.models import DBTaskResult
task = DBTaskResult.objects.get(pk="{task_id}")
with connection.cursor() as cursor:
    cursor.execute('SELECT COUNT(*) FROM "{table}"')
    rows = cursor.fetchone()[0]
out = {{"status": task.status, "workers": len(task.worker_ids), "rows": rows, "value": task.return_value}}
"""
    killed = _python(env, state)
    # The next worker start requeues it (its worker is gone) and runs it once; --batch ends when the queue is.
    _manage(env, "worker", "--batch", "--interval", "0.2")
    return {"before": before, "killed": killed, "after": _python(env, state)}


def test_a_settlement_killed_midway_is_rolled_back_and_run_again_once(installation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    outcome = _crash_then_retry(
        installation,
        "from brygga.payment.tasks import settle_last_month_task\n"
        "queued = settle_last_month_task.enqueue('gits', '2022-12-05')",
        "payment_settlementrun",
        tmp_path,
    )
    # Killed: still RUNNING, and nothing of it written (its transaction died with it).
    assert outcome["killed"]["status"] == "RUNNING" and outcome["killed"]["rows"] == outcome["before"]
    after = outcome["after"]
    assert after["status"] == "SUCCESSFUL" and after["workers"] == 2  # claimed twice: killed, then the retry
    assert after["rows"] - outcome["before"] == len(after["value"]["created"]) > 0
    duplicates = _python(
        installation,
        "from django.db.models import Count\nfrom brygga.payment.models import SettlementRun\n"
        "out = list(SettlementRun.objects.values('municipality', 'year', 'month')"
        ".annotate(n=Count('id')).filter(n__gt=1))",
    )
    assert duplicates == []


def test_a_statistics_refresh_killed_midway_is_rolled_back_and_run_again_once(
    installation, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    outcome = _crash_then_retry(
        installation,
        "from brygga.statistics.tasks import update_statistics_task\n"
        "queued = update_statistics_task.enqueue('2022-01-01', '2022-12-01')",
        "statistics_monthlyprocessstat",
        tmp_path,
    )
    assert outcome["killed"]["status"] == "RUNNING" and outcome["killed"]["rows"] == outcome["before"]
    after = outcome["after"]
    assert after["status"] == "SUCCESSFUL" and after["workers"] == 2
    in_range = _python(
        installation,
        "import datetime as dt\nfrom brygga.statistics.models import MonthlyProcessStat\n"
        "out = MonthlyProcessStat.objects.filter(month__year=2022).count()",
    )
    assert in_range == after["value"]["rows"] > 0  # the months' rows replaced once, not twice


def test_backup_snapshots_killed_midway_leave_no_half_snapshot_and_run_again_once(
    installation, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    outcome = _crash_then_retry(
        installation,
        "from brygga.documents.tasks import produce_backup_snapshots_task\n"
        "queued = produce_backup_snapshots_task.enqueue()",
        "documents_backupsnapshot",
        tmp_path,
    )
    assert outcome["killed"]["status"] == "RUNNING" and outcome["killed"]["rows"] == outcome["before"]
    after = outcome["after"]
    assert after["status"] == "SUCCESSFUL" and after["workers"] == 2
    # One snapshot per unit, from the one run that finished.
    assert after["rows"] - outcome["before"] == after["value"] > 0
    # Every snapshot row has its file, with the SHA-256 it recorded (a file the killed run wrote without its
    # row is not referenced: clean_document_storage removes such orphans).
    assert "Alla" in _manage(installation, "verify_files")
