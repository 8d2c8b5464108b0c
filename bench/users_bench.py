"""Realistic load benchmark (issue 17): simulated users of each role with think time, on the data set
bench/cases_dataset.py built, against gunicorn with production settings and 2 sync workers.

Two parts, both in the same run and against the same server:

- ``service``: one user at a time, no queue: each page and action N times in turn, with the client's latency
  next to the server's own time and its SQL time (the ``Server-Timing`` header, ``BRYGGA_SERVER_TIMING=1``,
  ADR 0700) and the number of queries;
- ``capacity``: steps of U concurrent users (``--steps 100,200,400,700,1000``). Each simulated user has a role
  (ward nurse, municipal contact point, vårdcentral care coordinator, statistics user, in the shares of
  ``ROLE_SHARES``), starts at a random moment within the first think time, then repeats: choose an action with
  its role's weights (``MIX``), do it (a POST action follows its redirect, as a browser does), think for a
  random time (log-normal, median ``--think`` seconds, σ 0.5). Requests of the first ``--warmup`` seconds
  are not counted. A step passes with p95 ≤ ``--p95-limit`` ms over all requests and no errors; the capacity
  is the largest passing step. Steps stop at the first failing one unless ``--all-steps``.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/brygga_bench1m BRYGGA_VAR_DIR=/tmp/bench1m
    .venv/bin/python bench/users_bench.py --service-repeat 30 --steps 200,400,700,1000 --duration 120
    .venv/bin/python bench/users_bench.py --smoke     # temporary SQLite, tiny data set, seconds
    .venv/bin/python bench/users_bench.py --parts service --compare-tree /tmp/before --accounts 24

``--compare-tree`` serves a second code tree (e.g. a worktree of the commit before a change) on a second
gunicorn with the same settings and database; the service part then sends each request to both servers in
turn (the order alternating), so both trees are timed side by side in one run under the same load.

The actions write to the database (acknowledgements, messages, planning bases): use a benchmark database.
Simulated users share the logged-in sessions of the manifest's accounts (one login per account, through the
real password and TOTP pages), so 1,000 users need no 1,000 logins; a session costs the same per request.
Only 127.0.0.1 is contacted. Prints Markdown tables; ``--json`` also writes the figures to a file."""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import bench_secret_key, free_port, start_gunicorn  # noqa: E402
from bench.process_bench import Session, login  # noqa: E402

# Who uses the system: ward nurses and the receiving side dominate; a few statistics users.
ROLE_SHARES = {"ward_nurse": 0.4, "municipal_contact": 0.3, "care_coordinator": 0.25, "statistics": 0.05}
# What each role does per click (weights). The inbox and the case page are most of the traffic.
MIX: dict[str, dict[str, int]] = {
    "ward_nurse": {"inbox": 35, "case": 40, "message": 5, "planning": 10, "sip": 5, "statistics": 5},
    "municipal_contact": {
        "inbox": 35,
        "case": 35,
        "acknowledge": 12,
        "message": 5,
        "sip": 10,
        "statistics": 3,
    },
    "care_coordinator": {
        "inbox": 35,
        "case": 35,
        "acknowledge": 12,
        "message": 5,
        "sip": 10,
        "statistics": 3,
    },
    "statistics": {"statistics": 100},
}
LABELS = {
    "healthz": "GET /healthz",
    "inbox": "GET /arenden/ (inbox)",
    "case": "GET /arenden/<id>/ (case page)",
    "acknowledge": "POST /arenden/<id>/acknowledge/ (+ redirect)",
    "message": "POST /arenden/<id>/message/ (+ redirect)",
    "planning": "POST /arenden/<id>/planning/ (+ redirect)",
    "sip": "GET /sip/ (SIP page)",
    "statistics": "GET /statistik/ (statistics)",
}
TIMING = re.compile(r"app;dur=([\d.]+), db;dur=([\d.]+);desc=\"(\d+) queries\"")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))]


@dataclass
class Sample:
    action: str
    ms: float  # client-side latency of the whole action (a POST's redirect included)
    ok: bool
    app_ms: float | None = None  # Server-Timing of the (last) response
    db_ms: float | None = None
    queries: int | None = None
    status: int = 0


@dataclass
class Account:
    session: Session
    role: str
    unit_id: int | None
    cases: list[int] = field(default_factory=list)


def _timed(session: Session, method: str, path: str, fields: dict[str, str] | None = None) -> Sample:
    """One request (a POST with the session's CSRF token, then its redirect, as a browser does)."""
    import urllib.parse

    started = time.perf_counter()
    headers: dict[str, str] = {}
    body = None
    if method == "POST":
        fields = {"csrfmiddlewaretoken": session.cookies.get("csrftoken", ""), **(fields or {})}
        body = urllib.parse.urlencode(fields).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"http://127.0.0.1:{session.port}/",
        }
    try:
        status, _ms, _data, meta = session.request(method, path, body, headers)
        timings = [meta.get("server_timing", "")]
        if method == "POST" and status == 302 and meta["location"]:
            location = urllib.parse.urlsplit(meta["location"])
            status, _ms, _data, meta = session.request(
                "GET", location.path + (f"?{location.query}" if location.query else "")
            )
            timings.append(meta.get("server_timing", ""))
    except OSError:
        return Sample("", (time.perf_counter() - started) * 1000, False)
    sample = Sample("", (time.perf_counter() - started) * 1000, status == 200, status=status)
    matches = [m for m in (TIMING.search(t or "") for t in timings) if m]
    if matches:  # a POST and its redirect: the server's time for both
        sample.app_ms = sum(float(m[1]) for m in matches)
        sample.db_ms = sum(float(m[2]) for m in matches)
        sample.queries = sum(int(m[3]) for m in matches)
    return sample


class Actions:
    """The pages and actions, each a function (account, rng) -> Sample."""

    def __init__(self, stat_paths: list[str]) -> None:
        from brygga.cases import rules

        self.rules = rules
        self.stat_paths = stat_paths

    def run(self, name: str, account: Account, rng: random.Random) -> Sample:
        session = account.session
        case = rng.choice(account.cases) if account.cases else None
        if name in ("case", "acknowledge", "message", "planning") and case is None:
            name = "inbox"
        if name == "healthz":
            sample = _timed(session, "GET", "/healthz")
        elif name == "inbox":
            sample = _timed(session, "GET", "/arenden/")
        elif name == "case":
            sample = _timed(session, "GET", f"/arenden/{case}/")
        elif name == "acknowledge":
            sample = _timed(session, "POST", f"/arenden/{case}/acknowledge/")
        elif name == "message":
            sample = _timed(
                session,
                "POST",
                f"/arenden/{case}/message/",
                {
                    "category": "carecoordination",
                    "subject": "Planering inför hemgång",
                    "body": "Belastningstest: hur ser planeringen ut inför hemgång? " + secrets.token_hex(4),
                },
            )
        elif name == "planning":
            answers = list(self.rules.ANSWERS)
            fields = {f"answers.{k}": rng.choice(answers) for k in self.rules.PLANNING_QUESTIONS}
            fields |= {f"needs.{k}": rng.choice(["nej", "vet_ej"]) for k in self.rules.NEEDS}
            fields |= {f"nursing.{k}": "" for k in self.rules.NURSING_AREAS}
            fields |= {"medications": "Enligt läkemedelslista", "consent": "ja"}
            sample = _timed(session, "POST", f"/arenden/{case}/planning/", fields)
        elif name == "sip":
            sample = _timed(session, "GET", "/sip/")
        elif name == "statistics":
            sample = _timed(session, "GET", rng.choice(self.stat_paths))
        else:
            raise ValueError(name)
        sample.action = name
        return sample


def ensure_consents(manifest: dict[str, Any]) -> int:
    """Messages need a legal basis (R-SEK-3): give the persons of the sampled cases a consent to the case's
    units for the message category, as a ward would record it. Benchmark data, written directly (like the
    synthetic stays); idempotent."""
    from django.db import transaction
    from django.utils import timezone

    from brygga.accounts.models import User
    from brygga.cases.models import Case, Participant
    from brygga.consent.models import Consent
    from brygga.messaging.services import MESSAGE_CATEGORY

    ids = sorted({i for ids in manifest["case_samples"].values() for i in ids})
    recorder = User.objects.get(username=manifest["web_users"][0]["username"])
    cases = Case.objects.filter(pk__in=ids).exclude(person__consents__purpose="Belastningstest")
    units: dict[int, list[int]] = {}
    for case_id, unit_id in Participant.objects.filter(case_id__in=ids).values_list("case_id", "unit_id"):
        units.setdefault(case_id, []).append(unit_id)
    now = timezone.now()
    made = 0
    with transaction.atomic():
        for case in cases.only("pk", "person_id", "ward_id"):
            consent = Consent.objects.create(
                person_id=case.person_id,
                given_by=Consent.GivenBy.PERSON,
                form="verbal",
                given_at=now,
                purpose="Belastningstest",
                categories=[MESSAGE_CATEGORY],
                exclusions_note="Inga undantag.",
                recorded_by=recorder,
                recorded_unit_id=case.ward_id,
                recorded_at=now,
            )
            consent.parties.set(units.get(case.pk, []))
            made += 1
    return made


def _proc_cpu(pid: int, children: bool) -> float:
    """CPU seconds of process ``pid`` (with exited children's if ``children``); 0 if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime: workers and backends that have exited
    return ticks / os.sysconf("SC_CLK_TCK")


def _tree_pids(root: int) -> list[int]:
    """``root`` and its live children (gunicorn's workers)."""
    pids = [root]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == root:
            pids.append(int(stat.parent.name))
    return pids


def _postmaster_pid() -> int | None:
    """The local PostgreSQL server's main process (the oldest ``postgres`` process), if it runs here."""
    found = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == "postgres":
                stat = (comm.parent / "stat").read_text().rsplit(")", 1)[1].split()
                found.append((int(stat[19]), int(comm.parent.name)))  # starttime: the server came first
        except OSError:
            continue
    return min(found)[1] if found else None


class CpuSplit:
    """Where a step's CPU time went: gunicorn (master and workers), the local PostgreSQL (server and its
    backends) and this client, next to the machine's busy share. Read from /proc before and after: a
    process's children count once they have exited (cutime), the live ones are added one by one."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.postmaster = _postmaster_pid()
        self.start = self._read()

    def _group(self, root: int | None) -> float:
        if root is None:
            return 0.0
        return _proc_cpu(root, True) + sum(_proc_cpu(p, False) for p in _tree_pids(root)[1:])

    def _read(self) -> dict[str, float]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = values[3] + values[4]  # idle, iowait
        return {
            "gunicorn": self._group(self.server_pid),
            "postgres": self._group(self.postmaster),
            "client": time.process_time(),
            "busy": (sum(values) - idle) / os.sysconf("SC_CLK_TCK"),
            "all": sum(values) / os.sysconf("SC_CLK_TCK"),
        }

    def result(self, requests: int) -> dict[str, float]:
        end = self._read()
        spent = {k: end[k] - self.start[k] for k in end}
        per = max(requests, 1)
        return {
            "gunicorn_ms_per_request": round(spent["gunicorn"] * 1000 / per, 1),
            "postgres_ms_per_request": round(spent["postgres"] * 1000 / per, 1),
            "client_ms_per_request": round(spent["client"] * 1000 / per, 1),
            "busy_share": round(spent["busy"] / spent["all"], 2) if spent["all"] else 0.0,
        }


def think_time(rng: random.Random, median: float) -> float:
    return rng.lognormvariate(math.log(median), 0.5)


def _summary(group: list[Sample]) -> dict[str, Any]:
    """The figures of one page's samples: count, errors, client and server time, SQL time, queries."""
    ok = [s for s in group if s.ok]
    app = [s.app_ms for s in ok if s.app_ms is not None]
    db = [s.db_ms for s in ok if s.db_ms is not None]
    queries = [s.queries for s in ok if s.queries is not None]
    return {
        "n": len(group),
        "errors": len(group) - len(ok),
        "error_statuses": sorted({s.status for s in group if not s.ok}),
        "client_p50_ms": round(percentile([s.ms for s in ok], 50), 1),
        "server_p50_ms": round(percentile(app, 50), 1),
        "server_p95_ms": round(percentile(app, 95), 1),
        "sql_p50_ms": round(percentile(db, 50), 1),
        "queries": round(statistics.median(queries)) if queries else None,
    }


# The service part's pages and roles, in the order they are requested.
SERVICE_PLAN = [
    ("healthz", "ward_nurse"),
    ("inbox", "ward_nurse"),
    ("inbox", "municipal_contact"),
    ("inbox", "care_coordinator"),
    ("case", "ward_nurse"),
    ("case", "municipal_contact"),
    ("case", "care_coordinator"),
    ("acknowledge", "municipal_contact"),
    ("message", "ward_nurse"),
    ("planning", "ward_nurse"),
    ("sip", "care_coordinator"),
    ("statistics", "statistics"),
]


def service_part(actions: Actions, accounts: dict[str, list[Account]], repeat: int) -> dict[str, Any]:
    """One request at a time: the server's own time per page, next to its SQL time."""
    rng = random.Random(17)
    plan = [(a, r) for a, r in SERVICE_PLAN if accounts.get(r)]
    for action, role in plan:  # warm-up: the first request of a worker loads templates and code
        for _ in range(2):
            actions.run(action, accounts[role][0], rng)
    samples: dict[tuple[str, str], list[Sample]] = {}
    for _ in range(repeat):
        for action, role in plan:
            account = rng.choice(accounts[role])
            samples.setdefault((action, role), []).append(actions.run(action, account, rng))
    print(f"\n### Server time per page: one request at a time, {repeat} each\n")
    print(
        "| page | role | n | errors | client p50 ms | server p50 ms | server p95 ms | SQL p50 ms | queries "
        "| SQL share |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    out: dict[str, Any] = {}
    for (action, role), group in samples.items():
        row = _summary(group)
        share = row["sql_p50_ms"] / row["server_p50_ms"] if row["server_p50_ms"] > 0 else float("nan")
        print(
            f"| {LABELS[action]} | {role} | {row['n']} | {row['errors']} | {row['client_p50_ms']} | "
            f"{row['server_p50_ms']} | {row['server_p95_ms']} | {row['sql_p50_ms']} | {row['queries']} | "
            f"{share:.0%} |"
        )
        out[f"{action} {role}"] = row
    return out


def compare_service_part(
    actions: Actions, accounts: dict[str, list[Account]], repeat: int, ports: dict[str, int]
) -> dict[str, Any]:
    """``service_part`` against two servers side by side: each draw of an account and a page is requested
    from both (the same session: the servers share the database and the secret key), the order of the two
    alternating from draw to draw, so that both trees see the same moments of the host's load."""
    rng = random.Random(17)
    plan = [(a, r) for a, r in SERVICE_PLAN if accounts.get(r)]
    names = list(ports)
    for action, role in plan:  # warm-up of both servers
        for name in names:
            for _ in range(2):
                accounts[role][0].session.port = ports[name]
                actions.run(action, accounts[role][0], rng)
    samples: dict[tuple[str, str, str], list[Sample]] = {}
    turn = 0
    for _ in range(repeat):
        for action, role in plan:
            account = rng.choice(accounts[role])
            order = names if turn % 2 == 0 else names[::-1]
            turn += 1
            for name in order:
                account.session.port = ports[name]
                samples.setdefault((action, role, name), []).append(actions.run(action, account, rng))
    for role_accounts in accounts.values():
        for account in role_accounts:
            account.session.port = ports[names[0]]
    a, b = names
    print(f"\n### Server time per page, two trees side by side: one request at a time, {repeat} each\n")
    print(f"{a}: this checkout; {b}: --compare-tree\n")
    print(
        f"| page | role | n | errors | {b} server p50 ms | {a} server p50 ms | {a}/{b} | "
        f"{b} SQL p50 ms | {a} SQL p50 ms | queries {b} → {a} |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    out: dict[str, Any] = {}
    for action, role in plan:
        rows = {name: _summary(samples[(action, role, name)]) for name in names}
        this, compared = rows[a], rows[b]
        ratio = (
            this["server_p50_ms"] / compared["server_p50_ms"] if compared["server_p50_ms"] else float("nan")
        )
        print(
            f"| {LABELS[action]} | {role} | {this['n']} | {this['errors'] + compared['errors']} | "
            f"{compared['server_p50_ms']} | {this['server_p50_ms']} | {ratio:.2f} | "
            f"{compared['sql_p50_ms']} | {this['sql_p50_ms']} | {compared['queries']} → {this['queries']} |"
        )
        out[f"{action} {role}"] = rows
    return out


def capacity_step(
    actions: Actions,
    accounts: dict[str, list[Account]],
    users: int,
    duration: float,
    warmup: float,
    think: float,
    seed: int,
    server_pid: int | None = None,
) -> dict[str, Any]:
    roles = list(ROLE_SHARES)
    rng = random.Random(seed)
    population = [r for r in roles if accounts.get(r)]
    weights = [ROLE_SHARES[r] for r in population]
    plan = rng.choices(population, weights=weights, k=users)
    samples: list[Sample] = []
    lock = threading.Lock()
    stop = threading.Event()
    start = time.monotonic()
    counted_from = start + warmup

    def user(index: int, role: str) -> None:
        own = random.Random(seed * 100_003 + index)
        account = accounts[role][index % len(accounts[role])]
        names, mix = zip(*MIX[role].items(), strict=True)
        if stop.wait(own.uniform(0, think)):  # arrivals spread over the first think time
            return
        while not stop.is_set():
            began = time.monotonic()
            sample = actions.run(own.choices(names, weights=mix)[0], account, own)
            if began >= counted_from:
                with lock:
                    samples.append(sample)
            if stop.wait(think_time(own, think)):
                return

    cpu = time.process_time()
    load_before = os.getloadavg()[0]
    threads = [threading.Thread(target=user, args=(i, role), daemon=True) for i, role in enumerate(plan)]
    for t in threads:
        t.start()
    time.sleep(warmup)
    split = CpuSplit(server_pid) if server_pid else None  # the measured part only, as the requests
    time.sleep(duration)
    stop.set()
    for t in threads:
        t.join(timeout=180)
    measured = time.monotonic() - counted_from
    cpu = time.process_time() - cpu
    ok = [s.ms for s in samples if s.ok]
    errors = [s for s in samples if not s.ok]
    per_action: dict[str, dict[str, Any]] = {}
    for name in LABELS:
        group = [s for s in samples if s.action == name]
        if group:
            good = [s.ms for s in group if s.ok]
            per_action[name] = {
                "n": len(group),
                "errors": len(group) - len(good),
                "p50_ms": round(percentile(good, 50), 1),
                "p95_ms": round(percentile(good, 95), 1),
            }
    result = {
        "users": users,
        "roles": {r: plan.count(r) for r in population},
        "requests": len(samples),
        "errors": len(errors),
        "error_statuses": sorted({s.status for s in errors}),
        "req_s": round(len(samples) / measured, 1) if measured > 0 else 0.0,
        "p50_ms": round(percentile(ok, 50), 1),
        "p95_ms": round(percentile(ok, 95), 1),
        "max_ms": round(max(ok, default=float("nan")), 1),
        "load_before": round(load_before, 1),
        "load_after": round(os.getloadavg()[0], 1),
        "client_cpu_s": round(cpu, 1),
        "per_action": per_action,
    }
    if split is not None:
        # All requests of the measured time, not only those begun in it: closer to the CPU it took.
        result["cpu"] = split.result(len(samples))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", default="service,capacity")
    parser.add_argument("--service-repeat", type=int, default=30)
    parser.add_argument("--steps", default="100,200,400,700,1000", help="concurrent simulated users per step")
    parser.add_argument("--duration", type=float, default=120, help="measured seconds per step")
    parser.add_argument("--warmup", type=float, default=30, help="unmeasured seconds at the start of a step")
    parser.add_argument("--think", type=float, default=15, help="median think time, seconds")
    parser.add_argument("--p95-limit", type=float, default=300)
    parser.add_argument("--all-steps", action="store_true", help="run every step even after one fails")
    parser.add_argument(
        "--accounts", type=int, default=0, help="log in at most this many web accounts (0: all)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--manifest", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--compare-tree",
        type=Path,
        default=None,
        help="with --parts service: also serve this tree and time both, requests alternating",
    )
    parser.add_argument("--smoke", action="store_true", help="temporary SQLite, tiny data, seconds")
    args = parser.parse_args(argv)
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}

    env = {k: v for k, v in os.environ.items() if not k.startswith("BRYGGA_DEBUG")}
    env.update(
        DJANGO_SETTINGS_MODULE="brygga.settings",
        BRYGGA_DEBUG="0",
        BRYGGA_SSL_REDIRECT="0",
        BRYGGA_LOCAL_LOGIN="1",  # the bench users are local accounts (off by default in production)
        BRYGGA_ALLOWED_HOSTS="127.0.0.1",
        BRYGGA_SECRET_KEY=bench_secret_key(env),
        BRYGGA_LOG_LEVEL="WARNING",
        BRYGGA_SERVER_TIMING="1",
    )
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if args.smoke:
        tmp = tempfile.TemporaryDirectory(prefix="brygga-users-bench-")
        var = Path(tmp.name)
        env.update(BRYGGA_VAR_DIR=str(var), DATABASE_URL=f"sqlite:///{var / 'bench.sqlite3'}")
        args.manifest = var / "bench1m.json"
        args.service_repeat, args.steps, args.duration, args.warmup, args.think = 2, "6", 4.0, 0.5, 0.3
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "cases_dataset.py"), "--cases", "300", "--years", "1",
             "--chunk", "150", "--web-users", "6", "--stat-users", "1", "--ingest-persons", "0",
             "--case-sample", "10", "--manifest", str(args.manifest)],
            cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    var_dir = Path(env.get("BRYGGA_VAR_DIR", ROOT / "var"))
    env.setdefault("BRYGGA_STATIC_ROOT", str(var_dir / "bench-static"))
    os.environ.update(env)
    import json

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("collectstatic", interactive=False, verbosity=0)
    manifest_path = args.manifest or var_dir / "bench1m.json"
    if not manifest_path.exists():
        raise SystemExit(f"{manifest_path} is missing: run bench/cases_dataset.py first (same DATABASE_URL).")
    manifest = json.loads(manifest_path.read_text())
    from brygga.statistics.models import MonthlyProcessStat

    if not MonthlyProcessStat.objects.exists():  # the statistics pages read the summary tables
        import datetime as dt

        from django.utils import timezone

        from brygga.statistics import refresh as stats_refresh

        print("statistics summary tables empty: refreshing once before the run", flush=True)
        stats_refresh.refresh(
            dt.date.fromisoformat(manifest["first_month"]), timezone.localdate().replace(day=1)
        )
    made = ensure_consents(manifest)
    if made:
        print(f"recorded a consent for messages on {made} sampled cases", flush=True)
    connection.close()

    port = free_port()
    log_path = var_dir / "users-bench-gunicorn.log"
    server = start_gunicorn(env, port, args.workers, log_path, threads=args.threads)
    other = None
    if args.compare_tree is not None:
        other_port = free_port()
        try:
            other = start_gunicorn(
                env,
                other_port,
                args.workers,
                var_dir / "users-bench-gunicorn-compare.log",
                threads=args.threads,
                tree=args.compare_tree.resolve(),
            )
        except BaseException:  # the second server did not start: do not leave the first one running
            server.terminate()
            server.wait(timeout=30)
            raise
    # A stopped run (SIGTERM) still stops its gunicorn: exit through the finally below.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    out: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.node()} ({os.cpu_count()} CPUs, Python {platform.python_version()})",
        "data": {k: manifest.get(k) for k in ("cases", "open_cases", "events", "participants")},
        "gunicorn": {"workers": args.workers, "threads": args.threads},
        "think_median_s": args.think,
    }
    print(
        f"brygga users benchmark — {manifest['database']}, {manifest['cases']:,} cases "
        f"({manifest['open_cases']:,} open); gunicorn {args.workers} workers; {out['machine']}; "
        f"load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    failed = False
    try:
        web = manifest["web_users"]
        if args.accounts:  # the same number of each role, not the first accounts (all ward nurses)
            by_role: dict[str, list[dict[str, Any]]] = {}
            for u in web:
                by_role.setdefault(u["role"], []).append(u)
            per_role = max(1, args.accounts // len(by_role))
            web = [u for group in by_role.values() for u in group[:per_role]]
        samples = {int(k): v for k, v in manifest["case_samples"].items()}
        people = web + manifest["stat_users"]

        def log_in(u: dict[str, Any]) -> Session:
            """The real login (setup, unmeasured), tried three times: on a saturated machine a login can
            fail for reasons that are not the benchmark's subject (SQLite's single writer timing out, a
            second-factor code that expired between reading and posting it, or one already used in this
            30-second step: by the data set's enrolment right before the run, or an earlier run; the replay
            rule refuses it, so the retry waits for the next step)."""
            for attempt in range(3):
                try:
                    return login(port, u["username"], manifest["password"], u["totp_secret"])
                except SystemExit:
                    if attempt == 2:
                        raise
                    time.sleep(30 - time.time() % 30 + 1)
            raise AssertionError("unreachable")

        with ThreadPoolExecutor(max_workers=1 if args.smoke else 4) as pool:  # argon2 + TOTP
            sessions = list(pool.map(log_in, people))
        accounts: dict[str, list[Account]] = {}
        for person, session in zip(people, sessions, strict=True):
            role = person["role"] if person["role"] in MIX else "statistics"
            accounts.setdefault(role, []).append(
                Account(session, role, person.get("unit_id"), samples.get(person.get("unit_id"), []))
            )
        status, _ms, body, _meta = accounts["statistics"][0].session.request("GET", "/statistik/")
        links = sorted(
            set(
                re.findall(r'href="(/statistik/(?:delregion|kommun|sjukhus|avdelning)/[^"]+)"', body.decode())
            )
        )
        stat_paths = ["/statistik/", *random.Random(1).sample(links, min(len(links), 10))]
        actions = Actions(stat_paths)
        print(
            f"Logged in {len(sessions)} accounts: " + ", ".join(f"{r} {len(a)}" for r, a in accounts.items()),
            flush=True,
        )

        if "service" in parts and other is not None:
            out["service_compared"] = compare_service_part(
                actions, accounts, args.service_repeat, {"this": port, "compared": other_port}
            )
            failed |= any(row["errors"] for rows in out["service_compared"].values() for row in rows.values())
        elif "service" in parts:
            out["service"] = service_part(actions, accounts, args.service_repeat)
            failed |= any(row["errors"] for row in out["service"].values())
        if "capacity" in parts:
            steps = [int(s) for s in args.steps.split(",") if s.strip()]
            out["capacity_steps"] = []
            print(
                f"\n### Capacity: simulated users with think time (log-normal, median {args.think:g} s), "
                f"{args.duration:g} s measured per step after {args.warmup:g} s warm-up\n"
            )
            print(
                "| users | requests | errors | req/s | p50 ms | p95 ms | max ms | load avg before → after "
                "| client CPU s | passes |"
            )
            print("|---:|---:|---:|---:|---:|---:|---:|---|---:|---|")
            best = 0
            splits = []
            for n, users in enumerate(steps):
                r = capacity_step(
                    actions, accounts, users, args.duration, args.warmup, args.think, 1700 + n, server.pid
                )
                r["passes"] = r["errors"] == 0 and r["requests"] > 0 and r["p95_ms"] <= args.p95_limit
                out["capacity_steps"].append(r)
                print(
                    f"| {users} | {r['requests']} | {r['errors']} | {r['req_s']} | {r['p50_ms']} | "
                    f"{r['p95_ms']} | "
                    f"{r['max_ms']} | {r['load_before']} → {r['load_after']} | {r['client_cpu_s']} | "
                    f"{'yes' if r['passes'] else 'no'} |",
                    flush=True,
                )
                if "cpu" in r:
                    splits.append((users, r["cpu"]))
                if r["passes"]:
                    best = max(best, users)
                elif not args.all_steps:
                    break
            if splits:
                print("\nCPU per request (measured part of each step; ms of CPU time):\n")
                print("| users | gunicorn | PostgreSQL | client | machine busy |")
                print("|---:|---:|---:|---:|---:|")
                for users, c in splits:
                    print(
                        f"| {users} | {c['gunicorn_ms_per_request']} | {c['postgres_ms_per_request']} | "
                        f"{c['client_ms_per_request']} | {c['busy_share']:.0%} |"
                    )
            last = out["capacity_steps"][-1]
            print("\nPer action in the last step:\n")
            print("| action | requests | errors | p50 ms | p95 ms |")
            print("|---|---:|---:|---:|---:|")
            for name, row in last["per_action"].items():
                print(
                    f"| {LABELS[name]} | {row['n']} | {row['errors']} | {row['p50_ms']} | {row['p95_ms']} |"
                )
            out["capacity_users"] = best
            print(
                f"\nCapacity: {best} simulated users at p95 ≤ {args.p95_limit:g} ms with no errors "
                f"(largest passing step of {args.steps})"
            )
            # The smoke fails on errors of the one-at-a-time part above; its concurrent step runs on SQLite,
            # whose single writer can time out on a saturated machine, so its errors are shown, not fatal.
    finally:
        for process in (server, other):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))
    if tmp:
        tmp.cleanup()
    if failed:
        print("FAILED: errors in the run", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
