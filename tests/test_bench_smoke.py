"""The benchmark code paths (bench/, docs/benchmarks.md) on tiny data sets, so CI exercises them: the synthetic
stays with participants that the 1,000,000-case data set is made of, and the smoke runs of the load scripts
(`make bench-smoke`). The figures themselves are measured by the benchmarks, never asserted here."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine

from brygga.access.models import Involvement
from brygga.cases.facts import stay_facts_fields
from brygga.cases.models import Case, CaseEvent, Participant
from brygga.organisations.models import Unit
from brygga.statistics import synthetic

ROOT = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2026, 11, 20, 11, 0, tzinfo=dt.UTC)


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in (env or os.environ).items() if k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.mark.django_db
def test_synthetic_stays_with_participants_look_like_the_services_wrote_them() -> None:
    """R-INS-7 addressing: the ward sends, the contact point of the registered municipality (and mostly a
    vårdcentral there) receive the notice, each with an involvement (ended when the case closed) so
    need-to-know opens the person; open stays carry nothing after ``until``; the payment adapter finds the
    notice to the municipality."""
    with time_machine.travel(NOW, tick=False):
        counts = synthetic.generate(
            400, dt.date(2026, 1, 1), months=11, seed=3, chunk=150, until=NOW, participants=True
        )
    assert counts["cases"] == 400 and counts["participants"] == counts["involvements"]
    cases = list(Case.objects.select_related("municipality"))
    wards = Participant.objects.filter(role="ward")
    assert wards.count() == 400 and set(wards.values_list("addressing", flat=True)) == {"sender"}
    open_cases = [c for c in cases if c.status == Case.Status.ADMITTED]
    assert open_cases, "a realistic share of stays is still open at the end"
    assert not CaseEvent.objects.filter(case__in=open_cases, occurred_at__gt=NOW).exists()
    noticed = [c for c in cases if c.notice_sent_at is not None]
    for case in noticed[:100]:
        notice = CaseEvent.objects.get(case=case, kind="admission_notice_sent")
        receivers = Participant.objects.filter(case=case).exclude(role="ward")
        assert sorted(r["id"] for r in notice.data["recipients"]) == sorted(r.unit_id for r in receivers)
        contact = receivers.get(role="municipality").unit
        assert contact.kind == Unit.Kind.MUNICIPAL_CONTACT and contact.municipality_id == case.municipality_id
        involved = set(
            Involvement.objects.filter(person_id=case.person_id, source=f"case:{case.pk}").values_list(
                "unit_id", "ended_at"
            )
        )
        assert involved == {(p.unit_id, case.closed_at) for p in Participant.objects.filter(case=case)}
        facts = stay_facts_fields(case)
        assert facts is not None and facts["admission_notice_sent_at"] == notice.occurred_at
    # Acknowledgement state: closed stays are acknowledged; some open ones wait for it.
    closed_receivers = Participant.objects.filter(case__status=Case.Status.CLOSED).exclude(role="ward")
    assert not closed_receivers.filter(needs_ack=True).exists()
    assert closed_receivers.filter(acknowledged_at__isnull=False).count() == closed_receivers.count()
    waiting = Participant.objects.filter(case__in=open_cases, needs_ack=True)
    assert all(p.unacked_since is not None for p in waiting)


def test_process_benchmark_smoke_run() -> None:
    """bench/process_bench.py --smoke: login with TOTP, inbox + case page + healthz, statistics pages, and the
    API ingest with its exactly-once check (the script exits non-zero on errors or duplicates)."""
    done = _run("bench/process_bench.py", "--smoke")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Ratio p95 / healthz p95: inbox" in done.stdout
    assert "Ratio statistics p95 / healthz p95" in done.stdout
    assert "counts after the retries unchanged: True" in done.stdout


def test_load_benchmark_smoke_run() -> None:
    done = _run("bench/load.py", "--smoke")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Access-log entries written during the API run" in done.stdout


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the payment baseline is PostgreSQL SQL; runs when DATABASE_URL points at PostgreSQL",
)
def test_payment_benchmark_smoke_run() -> None:
    """bench/payment_bench.py --smoke: the settlement of all municipalities and the plain SQL aggregate give
    the same payable days per municipality (R-VG-BET-1..5) on a fresh database of 3 000 stays, and the
    adapter's own queries are timed alone (the floor under the settlement)."""
    done = _run("bench/payment_bench.py", "--smoke", "--repeat", "1")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "identical for all" in done.stdout
    assert re.search(r"reading the input rows only \([\d,]+ rows", done.stdout), done.stdout


def test_users_benchmark_smoke_run() -> None:
    """bench/users_bench.py --smoke (issue 17): every role's pages and actions (inbox, case page, acknowledge,
    message, planning basis save, SIP page, statistics) with the Server-Timing figures, then a capacity step
    of simulated users with think time; the script exits non-zero on any error."""
    done = _run("bench/users_bench.py", "--smoke")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Server time per page" in done.stdout and "Capacity:" in done.stdout
    service = [  # the rows of the server-time table (ten columns), not of the per-action table
        line
        for line in done.stdout.splitlines()
        if line.startswith("| POST /arenden/") and line.count("|") == 11
    ]
    assert len(service) == 3 and all("| 0 |" in line for line in service)  # acknowledge, message, planning
    assert re.search(r"\| GET /arenden/ \(inbox\) \| \w+ \| \d+ \| 0 \| [\d.]+ \| [\d.]+ \|", done.stdout)


def test_invoice_basis_benchmark_smoke_run() -> None:
    """Issue 17 item 4: the paged basis and the worker-built download answer 200 in the benchmark's own run."""
    done = _run("bench/invoice_basis_bench.py", "--smoke")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| page 1 | after |" in done.stdout and "| CSV download | after |" in done.stdout


def test_graceful_reload_under_load_smoke_run() -> None:
    """Issue 20 item 8: SIGHUP to gunicorn (a graceful reload) twice while clients keep requesting: every
    request answers 200 (bench/reload_bench.py exits 1 on any refused, reset or failed request)."""
    done = _run("bench/reload_bench.py", "--smoke")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "during 2 reloads (2 seen by gunicorn)" in done.stdout and ": 0 failed" in done.stdout
