"""FHIR endpoint and subscription delivery, measured in one run against gunicorn (2 sync workers) and the
django-tasks DB worker (docs/benchmarks.md, issue 19 item 6):

1. ``GET /healthz`` and ``POST /fhir/r4/Encounter`` (a new stay for a new person: token, R4B validation,
   person look-up, ``cases.services.admit``, access log, answer built and validated), single requests one at a
   time, p50/p95 of each and the ratio of the p95s;
2. notification latency: a municipal system subscribes to admission notices (rest-hook to a receiver on
   127.0.0.1); admission notices are sent through ``POST /fhir/r4/Task`` at ``--rate`` per second for
   ``--seconds`` by ``--senders`` threads (each notice at its own time slot, so the rate holds while a request
   waits); for each notification, the time from the event's ``recorded_at`` (written in the sending
   transaction, just before its commit) to its arrival at the receiver. Counts lost notifications (must be 0).

    python bench/fhir_bench.py                  # temporary SQLite, defaults below
    DATABASE_URL=postgres://… python bench/fhir_bench.py --encounters 600 --rate 20 --seconds 30
    python bench/fhir_bench.py --smoke          # tiny, for CI

Only 127.0.0.1 is contacted. Prints a Markdown table."""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from load import HOST, Result, bench_secret_key, free_port, start_gunicorn  # noqa: E402

SETUP = """
import json, datetime as dt
import django; django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
call_command("load_reference_data", verbosity=0)
from django.db import connection
if connection.vendor == "postgresql":
    # Fresh planner statistics for every run, as autovacuum keeps them in production: each run adds ~30,000
    # stays and idempotency records, and on a server without autovacuum the plans went stale (a 10-key look-up
    # of idempotency records read all 94,000 rows of the bench account: 286 ms instead of 0.1 ms).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
from brygga.accounts.models import ApiToken, Membership, User
from brygga.core.identifiers import luhn_check_digit
from brygga.organisations.models import Unit
from brygga.access.persons import register_person
def member(username, unit, role):
    user, _ = User.objects.get_or_create(username=username)
    m, _ = Membership.objects.get_or_create(user=user, unit=Unit.objects.get(name=unit),
                                            defaults={"role": role, "valid_from": dt.date(2000, 1, 1)})
    return ApiToken.issue(m, "bench")[1]
listed = Unit.objects.get(hsa_id__endswith="-VC1480").hsa_id
numbers, seen = [], set()
for n in range(%(offset)d, %(offset)d + %(count)d):
    birth = f"19{30 + n // 4000:02d}{1 + n %% 12:02d}{1 + (n // 12) %% 28:02d}"
    body = birth[2:] + f"{980 + (n // 336) %% 12:03d}"
    number = birth + body[-3:] + str(luhn_check_digit(body))
    if number in seen:
        continue
    seen.add(number)
    register_person(number, "Bench", "Testsson", "Provgatan 1", "41301", "Göteborg",
                    municipality_code="1480", listed_unit_hsa_id=listed)
    numbers.append(number)
print(json.dumps({"ehr": member("bench-ehr", "Sahlgrenska, medicinavdelning", "system"),
                  "municipality": member("bench-kommun", "Göteborg kontaktpunkt", "system"),
                  "persons": numbers}))
"""


def call(
    port: int,
    method: str,
    path: str,
    token: str = "",
    body: Any = None,
    content_type: str = "application/fhir+json",
) -> tuple[int, float, bytes]:
    headers = {"Accept": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = content_type
    started = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        status = response.status
    finally:
        conn.close()
    return status, (time.perf_counter() - started) * 1000, payload


def encounter(pnr: str, n: int | str) -> dict[str, Any]:
    start = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat()
    return {
        "resourceType": "Encounter",
        "identifier": [{"system": "urn:oid:1.2.752.99.1", "value": f"BENCH-{n}"}],
        "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "type": [
            {
                "coding": [
                    {"system": "https://brygga.vgregion.se/fhir/CodeSystem/care-type", "code": "somatic"}
                ]
            }
        ],
        "subject": {
            "identifier": {"system": "http://electronichealth.se/identifier/personnummer", "value": pnr}
        },
        "period": {"start": start},
        "extension": [
            {
                "url": "http://hl7.org/fhir/5.0/StructureDefinition/extension-Encounter.plannedEndDate",
                "valueDateTime": (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=4)).isoformat(),
            },
            {
                "url": "https://brygga.vgregion.se/fhir/StructureDefinition/need-assessed",
                "valueDateTime": start,
            },
        ],
    }


class Receiver:
    def __init__(self) -> None:
        self.arrivals: list[tuple[float, dict[str, Any]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                if body["entry"][0]["resource"].get("type") == "event-notification":  # not the handshake
                    outer.arrivals.append((time.time(), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server.server_address[1]}/hook"


def percentile(values: list[float], p: float) -> float:
    return Result("", values, 0, 1.0).percentile(p)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--encounters", type=int, default=300, help="Encounter creates (and persons)")
    parser.add_argument("--rate", type=float, default=10.0, help="admission notices per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to send notices")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured Encounter creates first")
    parser.add_argument(
        "--senders", type=int, default=4, help="threads sending the notices (to keep --rate while each waits)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument(
        "--producer",
        choices=["task", "batch"],
        default="task",
        help="how the admission notices are made: one POST /fhir/r4/Task each on the created Encounters, or "
        "new admissions with their notice through the JSON API's POST /api/v1/cases/batch (--batch-size a "
        "request), as an EHR that sends in batches",
    )
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument(
        "--person-offset",
        type=int,
        default=0,
        help="start the bench persons' numbers this far in (a second run on the same database needs persons "
        "without an open stay)",
    )
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    if args.smoke:
        args.encounters, args.rate, args.seconds, args.warmup = 24, 5.0, 3.0, 4
    notices = int(args.rate * args.seconds)
    if args.producer == "task" and notices > args.encounters - args.warmup:
        parser.error("--rate × --seconds must not exceed --encounters (one notice per stay)")
    persons_needed = args.encounters + (notices if args.producer == "batch" else 0)

    env = {k: v for k, v in os.environ.items() if not k.startswith("BRYGGA_DEBUG")}
    env.update(
        DJANGO_SETTINGS_MODULE="brygga.settings",
        BRYGGA_DEBUG="0",
        BRYGGA_SSL_REDIRECT="0",
        BRYGGA_ALLOWED_HOSTS=HOST,
        BRYGGA_SECRET_KEY=bench_secret_key(env),
        BRYGGA_LOG_LEVEL="WARNING",
        BRYGGA_FHIR_REQUIRE_HTTPS="0",  # the receiver is on loopback
        BRYGGA_FHIR_ENDPOINT_HOSTS=HOST,  # the allow-list production needs (fail closed without one)
    )
    tmp = tempfile.TemporaryDirectory(prefix="brygga-fhir-bench-")
    var = Path(tmp.name)
    env["BRYGGA_VAR_DIR"] = str(var)
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = f"sqlite:///{var / 'bench.sqlite3'}"
    done = subprocess.run(
        [sys.executable, "-c", SETUP % {"count": persons_needed, "offset": args.person_offset}],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    setup = json.loads(done.stdout.strip().splitlines()[-1])
    persons: list[str] = setup["persons"][: args.encounters]
    admitted_later: list[str] = setup["persons"][args.encounters : persons_needed]
    if args.producer == "batch" and len(admitted_later) < notices:
        raise SystemExit(f"only {len(admitted_later)} persons for {notices} admissions")

    port = free_port()
    server = start_gunicorn(env, port, args.workers, var / "gunicorn.log")
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "db_worker", "--queue-name", "*", "--no-reload",
         "--interval", "0.05", "--no-startup-delay"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    receiver = Receiver()
    run = secrets.token_hex(4)  # this run's EHR encounter identifiers (a database may hold earlier runs)
    try:
        for _ in range(10):  # warm-up
            call(port, "GET", "/healthz")
        warm = args.warmup
        for n, pnr in enumerate(
            persons[:warm]
        ):  # unmeasured: each worker's first FHIR request imports the models
            call(port, "POST", "/fhir/r4/Encounter", setup["ehr"], encounter(pnr, f"{run}-w{n}"))
        persons = persons[warm:]
        health = [call(port, "GET", "/healthz")[1] for _ in range(len(persons))]
        creates: list[float] = []
        ids: list[str] = []
        errors = 0
        for n, pnr in enumerate(persons):
            body = encounter(pnr, f"{run}-{n}")
            status, ms, payload = call(port, "POST", "/fhir/r4/Encounter", setup["ehr"], body)
            if status == 201:
                creates.append(ms)
                ids.append(json.loads(payload)["id"])
            else:
                errors += 1
        status, _ms, payload = call(
            port, "POST", "/fhir/r4/Subscription", setup["municipality"],
            {"resourceType": "Subscription", "status": "requested", "reason": "bench",
             "criteria": "https://brygga.vgregion.se/fhir/SubscriptionTopic/admission-notice",
             "channel": {"type": "rest-hook", "endpoint": receiver.url, "payload": "application/fhir+json"}},
        )  # fmt: skip
        if status != 201:
            raise SystemExit(f"subscription refused: {payload.decode()}")
        task_ms: list[float] = []
        lock = threading.Lock()
        queue = list(enumerate(ids[:notices]))
        batches = list(
            enumerate([admitted_later[i : i + args.batch_size] for i in range(0, notices, args.batch_size)])
        )
        started = time.monotonic()

        def send_batches() -> None:
            # Each batch of admissions (each with its notice) at its slot: batch j at started + j·size/rate.
            while True:
                with lock:
                    if not batches:
                        return
                    j, group = batches.pop(0)
                pause = started + j * args.batch_size / args.rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                admitted = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
                items = [
                    {
                        "op": "create",
                        "idempotency_key": f"fhir-bench-{run}-{j}-{k}",
                        "payload": {
                            "identifier": pnr,
                            "admitted_at": admitted,
                            "care_type": "somatic",
                            "expected_discharge_date": (
                                dt.datetime.now(dt.UTC).date() + dt.timedelta(days=4)
                            ).isoformat(),
                            "need_assessed_at": admitted,
                            "external_id": f"fhir-bench-{run}-{j}-{k}",
                            "send_notice": True,
                        },
                    }
                    for k, pnr in enumerate(group)
                ]
                status, ms, payload = call(
                    port, "POST", "/api/v1/cases/batch", setup["ehr"], {"items": items}, "application/json"
                )
                if status == 200:
                    made = sum(1 for i in json.loads(payload)["items"] if i["status"] == 201)
                    with lock:
                        task_ms.extend([ms] * made)

        def send() -> None:
            # Each sender takes the next notice and sends it at its slot (started + i / rate), so the rate
            # holds while a request waits on the server, as long as there are enough senders.
            while True:
                with lock:
                    if not queue:
                        return
                    i, encounter_id = queue.pop(0)
                pause = started + i / args.rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                task = {
                    "resourceType": "Task", "status": "requested", "intent": "order",
                    "code": {"coding": [{"system": "https://brygga.vgregion.se/fhir/CodeSystem/svpl-task",
                                         "code": "inskrivningsmeddelande"}]},
                    "encounter": {"reference": f"Encounter/{encounter_id}"},
                }  # fmt: skip
                status, ms, _payload = call(port, "POST", "/fhir/r4/Task", setup["ehr"], task)
                if status == 201:
                    with lock:
                        task_ms.append(ms)

        target = send_batches if args.producer == "batch" else send
        senders = [threading.Thread(target=target) for _ in range(max(1, args.senders))]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join()
        sent_for = time.monotonic() - started
        deadline = time.monotonic() + 120
        while len(receiver.arrivals) < len(task_ms) and time.monotonic() < deadline:
            time.sleep(0.1)
        latencies = []
        numbers = set()
        for arrived, bundle in receiver.arrivals:
            for event in bundle["entry"][0]["resource"].get("notificationEvent", []):
                recorded = dt.datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp()
                latencies.append((arrived - recorded) * 1000)
                numbers.add(event["eventNumber"])
    finally:
        worker.terminate()
        server.terminate()
        worker.wait(10)
        server.wait(10)
        receiver.server.shutdown()
        tmp.cleanup()

    db = "PostgreSQL" if env["DATABASE_URL"].startswith("postgres") else "SQLite"
    print(
        f"\n{db}; gunicorn {args.workers} sync workers; {args.senders} senders; one django-tasks DB worker; "
        f"load average {os.getloadavg()[0]:.1f}\n"
    )
    print("| measured | n | p50 ms | p95 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for name, values in (
        ("GET /healthz", health),
        ("POST /fhir/r4/Encounter", creates),
        (
            "POST /fhir/r4/Task (notice)"
            if args.producer == "task"
            else f"POST /api/v1/cases/batch ({args.batch_size} admissions + notices, per admission)",
            task_ms,
        ),
        ("notification: event → receiver", latencies),
    ):
        print(
            f"| {name} | {len(values)} | {percentile(values, 50):.1f} | {percentile(values, 95):.1f} "
            f"| {max(values, default=float('nan')):.1f} |"
        )
    print(
        f"\nEncounter create p95 / healthz p95 = {percentile(creates, 95) / percentile(health, 95):.2f}; "
        f"create errors {errors}"
    )
    print(
        f"notices sent: {len(task_ms)} in {sent_for:.1f} s ({len(task_ms) / sent_for:.1f}/s); "
        f"notifications received: {len(numbers)}; lost: {len(task_ms) - len(numbers)}"
    )
    return 0 if len(numbers) == len(task_ms) and not errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
