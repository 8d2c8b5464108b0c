"""The invoice basis of the largest municipality, before and after issue 17 item 4 (paged page, files built by
the worker), measured side by side in one run against the same database.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/brygga_bench_invoice
    .venv/bin/python bench/invoice_basis_bench.py --lines 2746 --requests 30 --before /path/to/old/checkout
    .venv/bin/python bench/invoice_basis_bench.py --smoke      # temporary SQLite, 120 lines, seconds

It stores one settlement run of Göteborg with ``--lines`` lines (synthetic stays over seven days: one line
each, as the largest municipality's month had 2,746), logs a municipal contact point in, and starts gunicorn
(2 sync workers, production settings) on this tree and, with ``--before``, a second one on the old tree.
Requests go to the two servers alternately, one at a time, so both see the same machine. Measured per
server: the first and last page of the basis, and the CSV download (the old tree builds it in the request;
this tree serves the file the worker built, whose build time is reported separately). Client latency p50/p95
and the server's own time (``Server-Timing``) are printed as a Markdown table."""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import bench_secret_key, free_port, start_gunicorn  # noqa: E402
from bench.process_bench import Session, login  # noqa: E402

TIMING = re.compile(r"app;dur=([\d.]+)")
PASSWORD = "bench-invoice-2026"  # noqa: S105 — a benchmark database's local account, never a real one


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def prepare(lines: int) -> tuple[int, dict[str, str]]:
    """The run, and a contact point per tree with its TOTP secret (a code is accepted once, so the two
    servers' logins need two accounts). Created once per database."""
    import datetime as dt

    import pyotp
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.utils import timezone

    from brygga.accounts.context import Actor
    from brygga.accounts.models import Membership, User
    from brygga.accounts.permissions import Role
    from brygga.accounts.services import store_totp_secret, totp_secret
    from brygga.organisations.models import Municipality, Unit
    from brygga.payment import services
    from brygga.payment.facts import CareType, DischargeReadyPeriod, StayFacts
    from brygga.payment.models import SettlementRun

    call_command("migrate", verbosity=0, interactive=False)
    call_command("load_reference_data", verbosity=0)
    gothenburg = Municipality.objects.get(scb_code="1480")
    contact_unit = Unit.objects.get(name="Göteborg kontaktpunkt")
    gits_unit = Unit.objects.get(name="GITS kansli")

    def account(username: str, unit: Unit, role: Role) -> User:
        user, _created = User.objects.get_or_create(
            username=username, defaults={"first_name": "Bänk", "last_name": username}
        )
        user.password = make_password(PASSWORD)
        user.save(update_fields=["password"])
        # A new secret each run: it is sealed with a key derived from this run's secret key.
        store_totp_secret(user, pyotp.random_base32(), confirmed=True)
        Membership.objects.update_or_create(user=user, unit=unit, defaults={"role": role.value})
        return user

    contacts = {
        tree: account(f"bench-invoice-kp-{tree}", contact_unit, Role.MUNICIPAL_CONTACT)
        for tree in ("before", "after")
    }
    gits = account("bench-invoice-gits", gits_unit, Role.GITS_COORDINATOR)
    run = (
        SettlementRun.objects.filter(municipality=gothenburg, year=2022, month=3)
        .order_by("-sequence")
        .first()
    )
    if run is None or run.lines.count() != lines:
        tz = timezone.get_current_timezone()

        def at(day: int, hour: int) -> dt.datetime:
            return dt.datetime(2022, 3, day, hour, tzinfo=tz)

        facts = [
            StayFacts(
                case_reference=f"B{n:05d}",
                municipality_code="1480",
                care_type=CareType.SOMATIC,
                admitted_at=at(1, 8) - dt.timedelta(days=3),
                admission_notice_sent_at=at(1, 10) - dt.timedelta(days=3),
                discharge_ready=(DischargeReadyPeriod(at(1 + n % 5, 9)),),
                discharge_ready_notice_sent_at=at(1 + n % 5, 9),
                discharged_at=at(12 + n % 15, 15),
                ward="Bänkavdelning",
            )
            for n in range(lines)
        ]
        membership = Membership.objects.get(user=gits, unit=gits_unit)
        run = services.run_settlement(Actor(gits, membership), gothenburg, 2022, 3, facts)
    return run.pk, {tree: totp_secret(user) or "" for tree, user in contacts.items()}


def build_times(run_id: int) -> dict[str, float]:
    """The worker's build of each format, timed in this process (what no web worker waits for any more)."""
    from brygga.payment import downloads
    from brygga.payment.models import ExportFile

    ExportFile.objects.filter(run_id=run_id).delete()
    times = {}
    for fmt in downloads.FORMATS:
        export = ExportFile.objects.create(run_id=run_id, fmt=fmt, run_status="open", rows_total=0)
        started = time.perf_counter()
        downloads.build_export(export.pk)
        times[fmt] = (time.perf_counter() - started) * 1000
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=2746)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--before", type=Path, default=None, help="a checkout of the code before (optional)")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRYGGA_DEBUG")}
    env.update(
        DJANGO_SETTINGS_MODULE="brygga.settings",
        BRYGGA_DEBUG="0",
        BRYGGA_SSL_REDIRECT="0",
        BRYGGA_LOCAL_LOGIN="1",
        BRYGGA_ALLOWED_HOSTS="127.0.0.1",
        BRYGGA_SECRET_KEY=bench_secret_key(env),
        BRYGGA_LOG_LEVEL="WARNING",
        BRYGGA_SERVER_TIMING="1",
    )
    tmp = tempfile.TemporaryDirectory(prefix="brygga-invoice-bench-")
    var = Path(tmp.name)
    if args.smoke:
        env["DATABASE_URL"] = f"sqlite:///{var / 'bench.sqlite3'}"
        args.lines, args.requests = 120, 3
    env.setdefault("BRYGGA_VAR_DIR", str(var))
    env.setdefault("BRYGGA_STATIC_ROOT", str(var / "static"))
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from brygga.payment import downloads

    call_command("collectstatic", interactive=False, verbosity=0)
    run_id, totp = prepare(args.lines)
    built = build_times(run_id)
    connection.close()

    trees = {"after": ROOT}
    if args.before:
        trees = {"before": args.before.resolve(), **trees}
    servers = {}
    sessions: dict[str, Session] = {}
    try:
        for name, tree in trees.items():
            port = free_port()
            servers[name] = start_gunicorn(env, port, 2, var / f"gunicorn-{name}.log", tree=tree)
            sessions[name] = login(port, f"bench-invoice-kp-{name}", PASSWORD, totp[name])
        export_id = _done_export(run_id)
        last_page = -(-args.lines // 100)
        paths = {
            "page 1": f"/betalningsansvar/{run_id}/",
            f"page {last_page} (last)": f"/betalningsansvar/{run_id}/?sida={last_page}",
            "CSV download": f"/betalningsansvar/{run_id}/underlag.csv",
        }
        samples: dict[tuple[str, str], list[tuple[float, float | None, int]]] = {}
        for _round in range(args.requests):
            for label, path in paths.items():
                for name, session in sessions.items():
                    target = path
                    if name == "after" and label == "CSV download":
                        target = f"/betalningsansvar/{run_id}/fil/{export_id}/hamta/"
                    status, ms, body, meta = session.request("GET", target)
                    match = TIMING.search(meta.get("server_timing", ""))
                    samples.setdefault((label, name), []).append(
                        (ms, float(match[1]) if match else None, len(body) if status == 200 else -status)
                    )
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(10)
    print(
        f"\n{args.lines} lines, {args.requests} requests per row and tree, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {os.getloadavg()[0]:.1f}\n"
    )
    print("| request | tree | p50 ms | p95 ms | server p50 ms | bytes | errors |")
    print("|---|---|---:|---:|---:|---:|---:|")
    failed = False
    for (label, name), rows in samples.items():
        times = [r[0] for r in rows]
        server = [r[1] for r in rows if r[1] is not None]
        errors = sum(1 for r in rows if r[2] < 0)
        failed |= errors > 0
        size = max(r[2] for r in rows)
        print(
            f"| {label} | {name} | {statistics.median(times):.1f} | {percentile(times, 95):.1f} | "
            f"{statistics.median(server) if server else float('nan'):.1f} | {size} | {errors} |"
        )
    print("\nBuilt by the worker (this tree, in-process, once): " + ", ".join(
        f"{fmt} {ms:.0f} ms" for fmt, ms in built.items()
    ) + f"; files of runs over {downloads.INLINE_LINES} lines are built this way.")  # fmt: skip
    tmp.cleanup()
    return 1 if failed else 0


def _done_export(run_id: int) -> int:
    from brygga.payment.models import ExportFile

    return ExportFile.objects.get(run_id=run_id, fmt="csv", status="done").pk


if __name__ == "__main__":
    raise SystemExit(main())
