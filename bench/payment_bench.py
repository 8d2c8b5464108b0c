"""Benchmark of a month's payment settlement for all 49 municipalities from the cases, against a plain SQL
aggregate that computes the same payable days over the same rows, in the same run (issue 5).

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/brygga_bench1m BRYGGA_VAR_DIR=/tmp/bench1m
    .venv/bin/python bench/payment_bench.py [--year 2026 --month 10] [--repeat 3]
    .venv/bin/python bench/payment_bench.py --smoke      # a temporary database of 3 000 stays (PostgreSQL)

The settlement (``engine``) is the application's own path: ``payment.services.settle_last_month`` (the
scheduled job) for the previous month, ``run_month`` from the cases for another month (both through the bulk
adapter brygga/payment/adapter.py), or, in code without that adapter, ``brygga.cases.facts.stay_facts_fields``
per case discharged (or dead) in the month, then ``run_month`` (one stored run per municipality). Before each
timed settlement the month's runs are deleted (benchmark database only), so every repetition computes and
stores.

The baseline is one SQL statement with the VG average model (R-VG-BET-1..5, 7, 8) as the engine applies it
to these stays: discharged (or died) in the month, not cancelled; the latest discharge-ready still in force
(no withdrawal after it, R-UK-2); an admission notice to the municipality's own contact point (R-VG-BET-2);
SIP summons sent when a SIP was needed; days = discharge date − notice date in Swedish local time
(notice day is day 0); stays over ``long_stay_days`` charged individually (days − free days), the rest
together: max(0, S − threshold × N). It reads the rule's parameters from the database, and the run fails
if any municipality's payable days differ between the two. PostgreSQL only.

The statement is timed twice per repetition, as PostgreSQL runs it by default (its JIT compiles it) and with
JIT off, and so are the adapter's own queries alone (``brygga.cases.facts.bulk_queries``, rows fetched with
no processing): the floor under any settlement that reads the cases that way."""

# ruff: noqa: S608 — the SQL is fixed text; values are passed as parameters
from __future__ import annotations

import argparse
import datetime as dt
import inspect
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "brygga.settings")

BASELINE = """
WITH base AS MATERIALIZED (
  -- the cheap columns first: discharged in the month, or not discharged and not closed before it
  SELECT c.id, c.municipality_id, c.admitted_at, c.sip_needed, c.sip_summons_sent_at, c.discharged_at
  FROM cases_case c
  WHERE c.municipality_id IS NOT NULL AND c.status <> 'cancelled' AND c.admitted_at < %(end)s
    AND ((c.discharged_at >= %(start)s AND c.discharged_at < %(end)s)
         OR (c.discharged_at IS NULL AND (c.closed_at IS NULL OR c.closed_at >= %(start)s)))
),
ev AS MATERIALIZED (
  -- the events the rules read, of those cases only, in one pass
  SELECT e.case_id, e.id, e.kind, e.occurred_at, e.data
  FROM cases_caseevent e JOIN base ON base.id = e.case_id
  WHERE e.kind IN ('died', 'cancelled', 'discharge_ready_set', 'discharge_ready_withdrawn',
                   'admission_notice_sent')
),
noticed AS (
  -- an admission notice naming an active contact-point participant of the case's own municipality
  SELECT DISTINCT ev.case_id
  FROM ev JOIN base ON base.id = ev.case_id
  JOIN cases_participant p ON p.case_id = ev.case_id AND p.status = 'active' AND p.role = 'municipality'
  JOIN organisations_unit u ON u.id = p.unit_id AND u.municipality_id = base.municipality_id
  WHERE ev.kind = 'admission_notice_sent'
    AND ev.data->'recipients' @> jsonb_build_array(jsonb_build_object('id', p.unit_id))
),
per_case AS (
  SELECT base.id, base.municipality_id, base.admitted_at, base.sip_summons_sent_at,
         coalesce(base.discharged_at, min(ev.occurred_at) FILTER (WHERE ev.kind = 'died')) AS out_at,
         bool_or(ev.kind = 'cancelled') AS cancelled,
         max(ev.occurred_at) FILTER (WHERE ev.kind = 'discharge_ready_set') AS set_at,
         max(ev.occurred_at) FILTER (WHERE ev.kind = 'discharge_ready_withdrawn') AS withdrawn_at,
         coalesce(((array_agg(ev.data->>'sip_needed' ORDER BY ev.occurred_at DESC, ev.id DESC)
                    FILTER (WHERE ev.kind = 'discharge_ready_set'))[1])::boolean, base.sip_needed) AS sip
  FROM base LEFT JOIN ev ON ev.case_id = base.id
  GROUP BY base.id, base.municipality_id, base.admitted_at, base.sip_summons_sent_at, base.discharged_at,
           base.sip_needed
),
counted AS (
  SELECT municipality_id,
         (out_at AT TIME ZONE 'Europe/Stockholm')::date - (set_at AT TIME ZONE 'Europe/Stockholm')::date
           + %(offset)s AS days
  FROM per_case JOIN noticed ON noticed.case_id = per_case.id
  WHERE out_at >= %(start)s AND out_at < %(end)s AND NOT coalesce(cancelled, false)
    AND set_at IS NOT NULL AND (withdrawn_at IS NULL OR withdrawn_at < set_at)
    AND out_at >= set_at AND out_at >= admitted_at
    AND NOT (%(requires_sip)s AND sip AND sip_summons_sent_at IS NULL)
)
SELECT m.scb_code,
       coalesce(sum(greatest(0, days - %(long_free)s)) FILTER (WHERE days > %(long_days)s), 0)
       + greatest(0, coalesce(sum(days) FILTER (WHERE days <= %(long_days)s), 0)
                     - %(threshold)s * count(*) FILTER (WHERE days <= %(long_days)s)) AS payable,
       count(*) AS stays
FROM counted JOIN organisations_municipality m ON m.id = counted.municipality_id
GROUP BY m.scb_code
"""


def main(argv: list[str] | None = None) -> int:
    smoke = "--smoke" in (sys.argv[1:] if argv is None else argv)
    try:
        return _main(argv)
    finally:
        if smoke:  # the fresh smoke database goes again
            from django.db import connections

            connections.close_all()
            _drop_smoke_database()


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--year", type=int, default=None, help="default: the previous month")
    parser.add_argument("--month", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--user", default="bench-payment", help="a user with payment.manage")
    parser.add_argument(
        "--smoke", action="store_true", help="fresh temporary PostgreSQL database, 3 000 stays"
    )
    args = parser.parse_args(argv)

    import django

    if args.smoke:
        _smoke_database()
    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from brygga.accounts.context import Actor
    from brygga.accounts.models import Membership
    from brygga.payment import services
    from brygga.payment.engine import MonthSpan
    from brygga.payment.models import SettlementLine, SettlementRun

    if connection.vendor != "postgresql":
        sys.exit("PostgreSQL only: set DATABASE_URL to a database of your own.")
    if args.smoke:
        _smoke_data()
    today = timezone.localdate()
    last = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    year, month = args.year or last.year, args.month or last.month
    span = MonthSpan.of(year, month)
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(span.first, dt.time(), tzinfo=tz)
    end = dt.datetime.combine(span.last + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    rule = next(r for r in services.current_rules() if r.code == "vg-average").params()
    params = {
        "start": start,
        "end": end,
        "offset": rule.day_offset,
        "requires_sip": rule.requires_sip_summons,
        "long_days": rule.long_stay_days,
        "long_free": rule.long_stay_free_days,
        "threshold": rule.average_threshold,
    }
    membership = Membership.objects.select_related("user", "unit").get(user__username=args.user)
    actor = Actor(user=membership.user, membership=membership, channel="command")
    settle_last_month = getattr(services, "settle_last_month", None)
    use_service = settle_last_month is not None and (year, month) == (last.year, last.month)
    # run_month reads the cases itself when given no facts (the bulk adapter, brygga/payment/adapter.py)
    from_cases = inspect.signature(services.run_month).parameters.get("facts")
    from_cases_ok = from_cases is not None and from_cases.default is None

    def reset() -> None:
        with transaction.atomic():
            runs = SettlementRun.objects.filter(year=year, month=month)
            SettlementLine.objects.filter(run__in=runs).delete()
            runs.delete()

    def engine() -> dict[str, Decimal]:
        if use_service:
            settle_last_month(actor)
        elif from_cases_ok:
            services.run_month(actor, year, month)
        else:
            services.run_month(actor, year, month, _facts_from_cases(start, end))
        totals: dict[str, Decimal] = {}
        runs = SettlementRun.objects.filter(year=year, month=month, status=SettlementRun.Status.OPEN)
        for code, days in runs.values_list("municipality__scb_code", "lines__payable_days"):
            totals[code] = totals.get(code, Decimal(0)) + (days or Decimal(0))
        return totals

    def baseline(jit: bool = True) -> dict[str, Decimal]:
        """The SQL statement as PostgreSQL runs it by default (JIT on), or with JIT switched off for it: the
        planner's row estimates for the CTEs are far too high, so with the default settings it compiles the
        query (about 0.6 s on the 1M set) before running it (about 0.25 s). Both are reported."""
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = " + ("on" if jit else "off"))
            cursor.execute(BASELINE, params)
            return {code: Decimal(payable) for code, payable, _stays in cursor.fetchall()}

    def read_only() -> int:
        """The floor under the settlement from the cases: the adapter's own queries and chunks
        (``brygga.cases.facts.bulk_queries``), rows fetched as plain tuples, with no processing at all."""
        from brygga.cases.facts import bulk_queries, payment_cases
        from brygga.payment.adapter import CHUNK_SIZE, month_bounds

        bounds = month_bounds(year, month, [r.params() for r in services.current_rules()])
        case_rows, per_chunk = bulk_queries(payment_cases(*bounds))
        rows = 0
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(*case_rows.query.sql_with_params())
            cases = cursor.fetchall()
            for first in range(0, len(cases), CHUNK_SIZE):
                for query in per_chunk([c[0] for c in cases[first : first + CHUNK_SIZE]]):
                    cursor.execute(*query.query.sql_with_params())
                    rows += len(cursor.fetchall())
        return rows + len(cases)

    path = "settle_last_month" if use_service else "run_month (from the cases)"
    if not (use_service or from_cases_ok):
        path = "stay_facts_fields per case + run_month"
    print(f"Settlement of {year}-{month:02d} for all municipalities via {path}; baseline: one SQL statement")
    baseline()  # warm the cache once, for both
    engine_times, sql_times, nojit_times, read_times = [], [], [], []
    for _ in range(args.repeat):
        reset()
        t0 = time.perf_counter()
        engine_totals = engine()
        engine_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        sql_totals = baseline()
        sql_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        nojit_totals = baseline(jit=False)
        nojit_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        read_rows = read_only()
        read_times.append(time.perf_counter() - t0)
        assert nojit_totals == sql_totals, "the SQL gave other totals without JIT"
    runs = SettlementRun.objects.filter(year=year, month=month, status=SettlementRun.Status.OPEN)
    lines = SettlementLine.objects.filter(run__in=runs).count()
    codes = sorted(set(engine_totals) | set(sql_totals))
    differ = [
        (c, engine_totals.get(c, Decimal(0)), sql_totals.get(c, Decimal(0)))
        for c in codes
        if engine_totals.get(c, Decimal(0)) != sql_totals.get(c, Decimal(0))
    ]
    print(f"runs stored: {runs.count()}, lines: {lines:,}; payable days in total: "
          f"engine {sum(engine_totals.values())}, SQL {sum(sql_totals.values())}")  # fmt: skip
    print(f"engine:   best {min(engine_times):.2f} s, median {statistics.median(engine_times):.2f} s  "
          f"{[round(t, 2) for t in engine_times]}")  # fmt: skip
    print(f"baseline: best {min(sql_times):.3f} s, median {statistics.median(sql_times):.3f} s  "
          f"{[round(t, 3) for t in sql_times]}")  # fmt: skip
    print(f"baseline, JIT off: best {min(nojit_times):.3f} s, median {statistics.median(nojit_times):.3f} s  "
          f"{[round(t, 3) for t in nojit_times]}")  # fmt: skip
    ratio = statistics.median(engine_times) / statistics.median(sql_times)
    ratio_nojit = statistics.median(engine_times) / statistics.median(nojit_times)
    floor = statistics.median(read_times) / statistics.median(nojit_times)
    print(f"reading the input rows only ({read_rows:,} rows, no processing): best {min(read_times):.3f} s, "
          f"median {statistics.median(read_times):.3f} s = {floor:.1f}× JIT off")  # fmt: skip
    print(f"ratio settlement/baseline (median): {ratio:.1f} with the default JIT, "
          f"{ratio_nojit:.1f} with JIT off")  # fmt: skip
    if differ:
        print(
            f"FAILED: payable days differ for {len(differ)} municipalities, e.g. {differ[:5]}",
            file=sys.stderr,
        )
        return 1
    print(f"payable days per municipality: identical for all {len(codes)} municipalities with stays")
    return 0


def _facts_from_cases(start: dt.datetime, end: dt.datetime) -> list:  # type: ignore[type-arg]
    """The adapter as the cases app offers it: StayFacts of every case discharged or dead in the month."""
    from django.db.models import Q

    from brygga.cases.facts import stay_facts_fields
    from brygga.cases.models import Case
    from brygga.payment.api import StayFactsIn

    cases = (
        Case.objects.filter(
            Q(discharged_at__gte=start, discharged_at__lt=end)
            | Q(
                discharged_at__isnull=True,
                events__kind="died",
                events__occurred_at__gte=start,
                events__occurred_at__lt=end,
            )  # fmt: skip
        )
        .select_related("municipality", "ward")
        .distinct()
    )
    facts = []
    for case in cases.iterator(chunk_size=2000):
        fields = stay_facts_fields(case)
        if fields is not None:
            facts.append(StayFactsIn(**fields).to_facts())
    return facts


def _smoke_url() -> tuple[str, str]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        url = "postgres://postgres@127.0.0.1:5432/brygga_bench_smoke"
    base, _, name = url.rpartition("/")
    return base, name if name.endswith("_paysmoke") else f"{name}_paysmoke"


def _smoke_database() -> None:
    """Point Django at a fresh database named after the configured one (or brygga_bench_smoke)."""
    import psycopg

    base, name = _smoke_url()
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = f"{base}/{name}"


def _drop_smoke_database() -> None:
    import psycopg

    base, name = _smoke_url()
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _smoke_data() -> None:
    import tempfile

    from bench import cases_dataset

    with tempfile.TemporaryDirectory(prefix="brygga-payment-smoke-") as tmp:
        cases_dataset.main(["--cases", "3000", "--years", "1", "--chunk", "1000", "--web-users", "1",
                            "--stat-users", "1", "--ingest-persons", "1", "--case-sample", "1",
                            "--manifest", f"{tmp}/manifest.json"])  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
