"""Load test of the discharge process on the data set bench/cases_dataset.py built (issue 3, issue 5):

- ``web``: U concurrent users (default 50), each logged in through the real login and TOTP pages with its
  own session, each in a closed loop (no think time) doing, in random order per round, a GET of its unit's
  inbox (``/arenden/``), a GET of the case page of a random open case of its unit (``/arenden/<id>/``) and a
  GET of ``/healthz``. p50/p95 per endpoint and the ratios inbox p95 / healthz p95 and case p95 / healthz
  p95, all from the same run;
- ``statistics``: statistics users doing GETs of the statistics pages (overview and the area pages linked
  from it), interleaved with ``/healthz`` in the same way;
- ``ingest``: C concurrent API clients POSTing admissions (create case + admission notice, ``send_notice``)
  to ``/api/v1/cases/`` with the ward's SYSTEM token and an ``Idempotency-Key``; admissions per second, then
  a check in the database that every accepted request made exactly one case, one ``admitted`` and one
  ``admission_notice_sent`` event and one stored idempotent answer, and that a sample of retries with the same
  key and body is answered ``replayed`` and changes nothing.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/brygga_bench1m BRYGGA_VAR_DIR=/tmp/bench1m
    .venv/bin/python bench/process_bench.py --parts web,statistics,ingest --users 50 --rounds 20
    .venv/bin/python bench/process_bench.py --smoke     # temporary SQLite, tiny data set, seconds

gunicorn runs with production settings (``BRYGGA_DEBUG=0``, so TOTP is required at login) and 2 sync workers
unless ``--workers``/``--threads`` say otherwise. Only 127.0.0.1 is contacted. Prints Markdown tables;
``--json`` also writes the figures to a file."""

from __future__ import annotations

import argparse
import datetime as dt
import html
import http.client
import itertools
import json
import os
import platform
import random
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import HOST, Result, free_port, start_gunicorn  # noqa: E402

HEALTH = "GET /healthz"
INBOX = "GET /arenden/ (inbox, open)"
CASE = "GET /arenden/<id>/ (case page)"
ROLE_LABELS = {
    "ward_nurse": "— ward",
    "municipal_contact": "— contact point",
    "care_coordinator": "— vårdcentral",
}
STATS = "GET /statistik/… (statistics pages)"


class Session:
    """One user's cookies over plain http.client (a new connection per request: sync workers close them)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, float, bytes, dict[str, str]]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        conn = http.client.HTTPConnection(HOST, self.port, timeout=120)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            status = response.status
            for cookie in response.msg.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            location = response.getheader("Location", "")
            timing = response.getheader("Server-Timing", "")
        finally:
            conn.close()
        meta = {"location": location, "server_timing": timing}
        return status, (time.perf_counter() - started) * 1000, data, meta

    def post_form(self, path: str, fields: dict[str, str]) -> tuple[int, str]:
        fields = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **fields}
        status, _ms, _body, meta = self.request(
            "POST",
            path,
            urllib.parse.urlencode(fields).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        return status, meta["location"]


def login(port: int, username: str, password: str, totp_secret: str) -> Session:
    """The real login: the password page, then the second factor (a current TOTP code)."""
    import pyotp

    session = Session(port)
    session.request("GET", "/konto/logga-in/")
    status, location = session.post_form("/konto/logga-in/", {"username": username, "password": password})
    if status != 302:
        raise SystemExit(f"login of {username} failed at the password step ({status})")
    if "tvafaktor" in location:
        status, location = session.post_form("/konto/tvafaktor/", {"code": pyotp.TOTP(totp_secret).now()})
        if status != 302:
            raise SystemExit(f"login of {username} failed at the second factor ({status})")
    return session


def closed_loop(
    sessions: list[tuple[Session, list[tuple[str, str]]]], rounds: int
) -> tuple[dict[str, Result], float]:
    """Every session in its own thread; per round it requests each of its (name, path) once, in random
    order. All threads start together; returns a Result per name and the wall time."""
    latencies: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(len(sessions))

    def user(index: int) -> None:
        session, actions = sessions[index]
        rng = random.Random(index)
        barrier.wait()
        for _round in range(rounds):
            order = list(actions)
            rng.shuffle(order)
            for name, path in order:
                if callable(path):
                    path = path(rng)
                try:
                    status, ms, _body, _meta = session.request("GET", path)
                except OSError:
                    status, ms = 0, 0.0
                with lock:
                    if status == 200:
                        latencies.setdefault(name, []).append(ms)
                    else:
                        errors[name] = errors.get(name, 0) + 1

    started = time.perf_counter()
    threads = [threading.Thread(target=user, args=(i,)) for i in range(len(sessions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    names = sorted(set(latencies) | set(errors))
    return {n: Result(n, latencies.get(n, []), errors.get(n, 0), wall) for n in names}, wall


def table(results: list[Result], concurrency: int) -> str:
    lines = [
        "| endpoint | requests | errors | concurrent users | p50 ms | p95 ms | max ms | req/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {len(r.latencies_ms) + r.errors} | {r.errors} | {concurrency} | "
            f"{r.percentile(50):.1f} | {r.percentile(95):.1f} | "
            f"{max(r.latencies_ms, default=float('nan')):.1f} | {r.throughput:.1f} |"
        )
    return "\n".join(lines)


def summary(r: Result) -> dict[str, Any]:
    return {
        "requests": len(r.latencies_ms) + r.errors,
        "errors": r.errors,
        "p50_ms": round(r.percentile(50), 1),
        "p95_ms": round(r.percentile(95), 1),
        "max_ms": round(max(r.latencies_ms, default=0.0), 1),
        "req_s": round(r.throughput, 1),
    }


def web_part(
    port: int, manifest: dict[str, Any], users: int, rounds: int, inbox_query: str = ""
) -> dict[str, Any]:
    inbox_name = f"GET /arenden/?{inbox_query} (inbox)" if inbox_query else INBOX
    # Fewer users than accounts: the busiest unit of each kind in turn (ward, contact point, vårdcentral).
    by_role: dict[str, list[dict[str, Any]]] = {}
    for u in manifest["web_users"]:
        by_role.setdefault(u["role"], []).append(u)
    interleaved = [u for group in itertools.zip_longest(*by_role.values()) for u in group if u]
    chosen = interleaved[:users]
    samples = {int(k): v for k, v in manifest["case_samples"].items()}
    with ThreadPoolExecutor(max_workers=4) as pool:  # logins: argon2 hashing, unmeasured
        sessions = list(
            pool.map(lambda u: login(port, u["username"], manifest["password"], u["totp_secret"]), chosen)
        )
    plans = []
    for session, user in zip(sessions, chosen, strict=True):
        cases = samples.get(user["unit_id"]) or []
        inbox = f"{inbox_name} {ROLE_LABELS.get(user['role'], user['role'])}"
        inbox_path = f"/arenden/?{inbox_query}" if inbox_query else "/arenden/"
        actions: list[tuple[str, Any]] = [(HEALTH, "/healthz"), (inbox, inbox_path)]
        if cases:
            actions.append((CASE, lambda rng, cases=cases: f"/arenden/{rng.choice(cases)}/"))
        plans.append((session, actions))
    closed_loop(plans, 1)  # warm-up round, unmeasured
    cpu = time.process_time()
    results, wall = closed_loop(plans, rounds)
    cpu = time.process_time() - cpu  # the load generator's own share of the two cores
    per_kind = [r for name, r in sorted(results.items()) if name.startswith(f"{inbox_name} ")]
    results[inbox_name] = Result(
        inbox_name, [ms for r in per_kind for ms in r.latencies_ms], sum(r.errors for r in per_kind), wall
    )
    ordered = [results[n] for n in (HEALTH, inbox_name, CASE) if n in results] + per_kind
    print(
        f"\n### Web: {len(sessions)} concurrent users, {rounds} rounds, {wall:.1f} s "
        f"(load generator CPU {cpu:.1f} s)\n"
    )
    print(table(ordered, len(sessions)))
    health = results[HEALTH]
    out: dict[str, Any] = {
        "users": len(sessions),
        "rounds": rounds,
        "wall_s": round(wall, 1),
        "client_cpu_s": round(cpu, 1),
    }
    for r in ordered:
        out[r.name] = summary(r)
    for name, label in ((inbox_name, "inbox"), (CASE, "case")):
        if name in results:
            out[f"ratio_{label}_p95"] = round(results[name].percentile(95) / health.percentile(95), 2)
            out[f"ratio_{label}_p50"] = round(results[name].percentile(50) / health.percentile(50), 2)
    print(
        f"\nRatio p95 / healthz p95: inbox ×{out.get('ratio_inbox_p95')}, "
        f"case page ×{out.get('ratio_case_p95')} "
        f"(p50: inbox ×{out.get('ratio_inbox_p50')}, case page ×{out.get('ratio_case_p50')})"
    )
    return out


def statistics_part(port: int, manifest: dict[str, Any], concurrency: int, rounds: int) -> dict[str, Any]:
    users = manifest["stat_users"]
    sessions = [login(port, u["username"], manifest["password"], u["totp_secret"]) for u in users]
    status, _ms, body, _meta = sessions[0].request("GET", "/statistik/")
    if status != 200:
        raise SystemExit(f"/statistik/ answered {status}")
    pattern = r'href="(/statistik/(?:delregion|kommun|sjukhus|avdelning)/[^"]+)"'
    links = sorted({html.unescape(h) for h in re.findall(pattern, body.decode())})
    paths = ["/statistik/", *random.Random(1).sample(links, min(len(links), 20))]
    plans = []
    for i in range(concurrency):
        session = sessions[i % len(sessions)]
        plans.append((session, [(HEALTH, "/healthz"), (STATS, lambda rng, paths=paths: rng.choice(paths))]))
    closed_loop(plans, 1)
    results, wall = closed_loop(plans, rounds)
    ordered = [results[n] for n in (HEALTH, STATS) if n in results]
    print(f"\n### Statistics pages: {concurrency} concurrent sessions, {len(paths)} pages, {wall:.1f} s\n")
    print(table(ordered, concurrency))
    ratio = results[STATS].percentile(95) / results[HEALTH].percentile(95)
    print(f"\nRatio statistics p95 / healthz p95: ×{ratio:.2f}")
    out: dict[str, Any] = {"concurrency": concurrency, "pages": len(paths), "ratio_p95": round(ratio, 2)}
    for r in ordered:
        out[r.name] = summary(r)
    return out


def ingest_part(
    port: int,
    manifest: dict[str, Any],
    clients: int,
    count: int,
    retry_share: float,
    batch: int = 1,
    cleanup: bool = False,
) -> dict[str, Any]:
    """``batch`` 1: one POST /api/v1/cases/ per admission (Idempotency-Key header); more: POST
    /api/v1/cases/batch with that many ``create`` items, each with its own idempotency key."""
    from django.utils import timezone

    from brygga.cases.models import Case, CaseEvent
    from brygga.core.models import IdempotencyRecord
    from brygga.people.models import Person

    ingest = manifest["ingest"]
    free = list(
        Person.objects.filter(identifier__in=ingest["identifiers"], cases__isnull=True)
        .order_by("identifier")
        .values_list("identifier", flat=True)[:count]
    )
    if len(free) < count:
        raise SystemExit(f"only {len(free)} ingest persons without a case left; rebuild with more")
    run = uuid.uuid4().hex[:8]
    now = timezone.now()
    rng = random.Random(run)
    requests = []
    for n, identifier in enumerate(free):
        admitted = now - dt.timedelta(hours=rng.uniform(0.5, 20))
        body = {
            "identifier": identifier,
            "admitted_at": admitted.isoformat(),
            "care_type": "somatic",
            "expected_discharge_date": (
                timezone.localdate(now) + dt.timedelta(days=rng.randint(2, 9))
            ).isoformat(),
            "need_assessed_at": admitted.isoformat(),
            "external_id": f"bench-{run}-{n:06d}",
            "send_notice": True,
        }
        requests.append((f"bench-{run}-{n:06d}", json.dumps(body).encode()))
    auth = {"Authorization": f"Bearer {ingest['token']}", "Content-Type": "application/json"}

    def post_one(item: tuple[str, bytes]) -> tuple[int, float, dict[str, Any]]:
        key, body = item
        try:
            status, ms, data, _meta = Session(port).request(
                "POST", "/api/v1/cases/", body, {**auth, "Idempotency-Key": key}
            )
            return status, ms, json.loads(data or b"{}")
        except (OSError, ValueError):
            return 0, 0.0, {}

    def post_batch(group: list[tuple[str, bytes]]) -> list[tuple[int, float, dict[str, Any]]]:
        items = [{"op": "create", "idempotency_key": k, "payload": json.loads(b)} for k, b in group]
        try:
            status, ms, data, _meta = Session(port).request(
                "POST", "/api/v1/cases/batch", json.dumps({"items": items}).encode(), auth
            )
            answer = json.loads(data or b"{}")
        except (OSError, ValueError):
            return [(0, 0.0, {})] * len(group)
        if status != 200:
            return [(status, ms, {})] * len(group)
        return [(i["status"], ms, i) for i in answer["items"]]

    def post_all(items: list[tuple[str, bytes]]) -> list[tuple[int, float, dict[str, Any]]]:
        with ThreadPoolExecutor(max_workers=clients) as pool:
            if batch <= 1:
                return list(pool.map(post_one, items))
            groups = [items[i : i + batch] for i in range(0, len(items), batch)]
            return [answer for group in pool.map(post_batch, groups) for answer in group]

    started = time.perf_counter()
    answers = post_all(requests)
    wall = time.perf_counter() - started
    ok = [(item, a) for item, a in zip(requests, answers, strict=True) if a[0] == 201]
    statuses: dict[int, int] = {}
    for a in answers:
        statuses[a[0]] = statuses.get(a[0], 0) + 1
    name = "POST /api/v1/cases/ (admission + notice)"
    if batch > 1:  # one latency per batch request
        name = f"POST /api/v1/cases/batch ({batch} admissions + notices)"
        latencies = [a[1] for a in answers[::batch] if a[0] == 201]
    else:
        latencies = [a[1] for _i, a in ok]
    result = Result(name, latencies, len(answers) - len(ok), wall)

    external = [f"bench-{run}-{n:06d}" for n in range(len(requests))]
    cases = Case.objects.filter(external_id__in=external)

    def counts() -> dict[str, int]:
        return {
            "cases": cases.count(),
            "distinct_external_ids": cases.values("external_id").distinct().count(),
            "admitted_events": CaseEvent.objects.filter(case__in=cases, kind="admitted").count(),
            "notice_events": CaseEvent.objects.filter(case__in=cases, kind="admission_notice_sent").count(),
            "idempotency_records": IdempotencyRecord.objects.filter(key__in=external).count(),
        }

    before = counts()
    sample = rng.sample(ok, max(1, int(len(ok) * retry_share))) if ok else []
    retries = post_all([item for item, _a in sample])
    replayed = sum(1 for status, _ms, body in retries if body.get("acknowledgement", {}).get("replayed"))
    same_case = sum(
        1
        for (_item, first), (_s, _ms, again) in zip(sample, retries, strict=True)
        if (again.get("case") or {}).get("id") == (first[2].get("case") or {}).get("id")
    )
    after = counts()
    expected = len(ok)
    exact = all(v == expected for v in before.values()) and after == before
    print(
        f"\n### API ingest: {len(requests)} admissions, {clients} concurrent clients"
        f"{f', batches of {batch}' if batch > 1 else ''}, {wall:.1f} s\n"
    )
    print(table([result], clients).replace("concurrent users", "concurrent clients"))
    print(
        f"\nAdmissions per second: {len(ok) / wall:.1f} (each: 1 case, 2 events, a participant per receiver);"
        f" statuses {statuses}"
    )
    print(f"In the database after the run: {before}; accepted requests {expected}")
    print(
        f"Retries with the same key and body: {len(sample)}, answered replayed {replayed}, "
        f"same case {same_case}; counts after the retries unchanged: {after == before}"
    )
    if cleanup:  # benchmark database only: leave the inboxes as the data set built them
        from django.db import transaction

        from brygga.access.models import Involvement
        from brygga.cases.models import Participant

        ids = list(cases.values_list("id", flat=True))
        # _raw_delete: plain DELETEs, as the events are immutable through the ORM on purpose.
        with transaction.atomic():
            CaseEvent.objects.filter(case_id__in=ids)._raw_delete("default")
            Participant.objects.filter(case_id__in=ids)._raw_delete("default")
            Involvement.objects.filter(source__in=[f"case:{i}" for i in ids])._raw_delete("default")
            IdempotencyRecord.objects.filter(key__in=external)._raw_delete("default")
            Case.objects.filter(id__in=ids)._raw_delete("default")
        print(f"Removed the {len(ids)} ingested cases again (--ingest-cleanup)")
    return {
        "clients": clients,
        "batch": batch,
        "requests": len(requests),
        "accepted": expected,
        "statuses": {str(k): v for k, v in statuses.items()},
        "wall_s": round(wall, 1),
        "admissions_per_s": round(len(ok) / wall, 1),
        "latency": summary(result),
        "db": before,
        "retries": len(sample),
        "replayed": replayed,
        "same_case": same_case,
        "exactly_once": exact and replayed == len(sample) and same_case == len(sample),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", default="web,statistics,ingest")
    parser.add_argument("--users", type=int, default=50, help="concurrent web users")
    parser.add_argument("--rounds", type=int, default=20, help="rounds per web user (inbox, case, healthz)")
    parser.add_argument("--inbox-query", default="", help='e.g. "status=all": another inbox filter')
    parser.add_argument("--stat-concurrency", type=int, default=20)
    parser.add_argument("--stat-rounds", type=int, default=20)
    parser.add_argument("--ingest", type=int, default=2000, help="admissions to POST")
    parser.add_argument("--ingest-clients", type=int, default=8)
    parser.add_argument("--ingest-batch", type=int, default=1, help=">1: POST /cases/batch with this many")
    parser.add_argument("--retry-share", type=float, default=0.05)
    parser.add_argument(
        "--ingest-cleanup", action="store_true", help="delete the ingested cases after the checks (bench DB)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="gthread threads per worker (1: sync)")
    parser.add_argument("--manifest", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--smoke", action="store_true", help="temporary SQLite, tiny data, few requests")
    args = parser.parse_args(argv)
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}

    env = {k: v for k, v in os.environ.items() if not k.startswith("BRYGGA_DEBUG")}
    env.update(
        DJANGO_SETTINGS_MODULE="brygga.settings",
        BRYGGA_DEBUG="0",
        BRYGGA_SSL_REDIRECT="0",
        BRYGGA_LOCAL_LOGIN="1",  # the bench users are local accounts (off by default in production)
        BRYGGA_ALLOWED_HOSTS=HOST,
        BRYGGA_SECRET_KEY=env.get("BRYGGA_SECRET_KEY") or secrets.token_urlsafe(50),
        BRYGGA_LOG_LEVEL="WARNING",
    )
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if args.smoke:
        tmp = tempfile.TemporaryDirectory(prefix="brygga-process-bench-")
        var = Path(tmp.name)
        env.update(BRYGGA_VAR_DIR=str(var), DATABASE_URL=f"sqlite:///{var / 'bench.sqlite3'}")
        args.manifest = var / "bench1m.json"
        args.users, args.rounds, args.stat_concurrency, args.stat_rounds = 4, 2, 2, 2
        args.ingest, args.ingest_clients = 20, 2
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "cases_dataset.py"), "--cases", "400", "--years", "1",
             "--chunk", "200", "--web-users", "4", "--stat-users", "1", "--ingest-persons", "40",
             "--case-sample", "10", "--manifest", str(args.manifest)],
            cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    var_dir = Path(env.get("BRYGGA_VAR_DIR", ROOT / "var"))
    # Production settings serve hashed static files (the pages need the manifest): collect them once.
    env.setdefault("BRYGGA_STATIC_ROOT", str(var_dir / "bench-static"))
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("collectstatic", interactive=False, verbosity=0)
    manifest_path = args.manifest or var_dir / "bench1m.json"
    if not manifest_path.exists():
        raise SystemExit(f"{manifest_path} is missing: run bench/cases_dataset.py first (same DATABASE_URL).")
    manifest = json.loads(manifest_path.read_text())
    if "statistics" in parts:
        from brygga.statistics.models import MonthlyProcessStat

        if not MonthlyProcessStat.objects.exists():  # the pages read the summary tables
            from django.utils import timezone

            from brygga.statistics import refresh as stats_refresh

            first = dt.date.fromisoformat(manifest["first_month"])
            print("statistics summary tables empty: refreshing once before the run", flush=True)
            stats_refresh.refresh(first, timezone.localdate().replace(day=1))
    connection.close()

    port = free_port()
    log_path = (Path(tmp.name) if tmp else var_dir) / "process-bench-gunicorn.log"
    server = start_gunicorn(env, port, args.workers, log_path, threads=args.threads)
    out: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.node()} ({os.cpu_count()} CPUs, Python {platform.python_version()})",
        "load_before": os.getloadavg(),
        "data": {
            k: manifest.get(k) for k in ("cases", "open_cases", "events", "participants", "involvements")
        },
        "gunicorn": {"workers": args.workers, "threads": args.threads},
    }
    print(
        f"brygga process benchmark — {manifest['database']}, {manifest['cases']:,} cases "
        f"({manifest['open_cases']:,} open), {manifest['events']:,} events; gunicorn {args.workers} workers"
        f"{f' × {args.threads} threads' if args.threads > 1 else ' (sync)'}; {out['machine']}; "
        f"load average before {out['load_before'][0]:.1f}"
    )
    try:
        if "web" in parts:
            out["web"] = web_part(port, manifest, args.users, args.rounds, args.inbox_query)
        if "statistics" in parts:
            out["statistics"] = statistics_part(port, manifest, args.stat_concurrency, args.stat_rounds)
        if "ingest" in parts:
            out["ingest"] = ingest_part(
                port,
                manifest,
                args.ingest_clients,
                args.ingest,
                args.retry_share,
                args.ingest_batch,
                args.ingest_cleanup or args.smoke,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    out["load_after"] = os.getloadavg()
    print(f"\nLoad average after: {out['load_after'][0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))
    if tmp:
        tmp.cleanup()
    failed = [
        part
        for part, section in out.items()
        if isinstance(section, dict) and part in ("web", "statistics")
        and any(isinstance(v, dict) and v.get("errors") for v in section.values())
    ]  # fmt: skip
    if "ingest" in out and not out["ingest"]["exactly_once"]:
        failed.append("ingest")
    if failed:
        print(f"FAILED: {', '.join(failed)} (errors, or ingest not exactly once)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
