"""Benchmark of the statistics refresh against the plain SQL aggregate over the same rows, in the same run.

    createdb/psql: create database brygga_statbench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/brygga_statbench \\
        .venv/bin/python bench/statistics_bench.py --cases 200000 [--months 12] [--repeat 3] [--keep]
    # over the 1,000,000 stays of bench/cases_dataset.py (ten years from its first month):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/brygga_bench1m \\
        .venv/bin/python bench/statistics_bench.py --cases 1000000 --keep --first 2016-11 --months 121

Steps: migrate and load the reference data; unless --keep finds enough rows already, generate N synthetic
stays with their events and meetings by COPY (brygga.statistics.synthetic); ANALYZE; then alternately time

- the refresh (brygga.statistics.refresh.refresh): its grouped queries, the roll-up into five levels and
  the delete-and-insert of the summary rows in one transaction, and
- the baseline: hand-written SQL that computes the same numbers for the same months with GROUP BY GROUPING
  SETS over (month), (month, delregion), (month, municipality), (month, hospital), (month, ward), including
  the median with percentile_cont, fetched but not stored;

and report the best and median of each and their ratio. PostgreSQL only."""

# ruff: noqa: S608 — the SQL is fixed text; values are passed as parameters
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "brygga.settings")

import django  # noqa: E402

django.setup()

import datetime as dt  # noqa: E402

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from brygga.cases import rules as case_rules  # noqa: E402
from brygga.cases.models import Case  # noqa: E402
from brygga.statistics import refresh as stats_refresh  # noqa: E402
from brygga.statistics import synthetic  # noqa: E402

SETS = "GROUPING SETS ((m), (m, sub), (m, mu), (m, site), (m, ward))"
NOT_CANCELLED = "NOT EXISTS (SELECT 1 FROM cases_caseevent x WHERE x.case_id = c.id AND x.kind = 'cancelled')"


def _cases_cte(anchor: str, extra: str = "") -> str:
    return f"""
      SELECT date_trunc('month', c.{anchor} AT TIME ZONE %(tz)s)::date AS m, mu.subregion_id AS sub,
             c.municipality_id AS mu, c.site_id AS site, c.ward_id AS ward, c.*
      FROM cases_case c LEFT JOIN organisations_municipality mu ON mu.id = c.municipality_id
      WHERE c.{anchor} >= %(start)s AND c.{anchor} < %(end)s AND c.status <> 'cancelled'
        AND {NOT_CANCELLED} {extra}"""


def _events_cte(kind: str, extra: str = "") -> str:
    return f"""
      SELECT date_trunc('month', e.occurred_at AT TIME ZONE %(tz)s)::date AS m, mu.subregion_id AS sub,
             c.municipality_id AS mu, c.site_id AS site, c.ward_id AS ward, e.case_id, e.id, e.data
      FROM cases_caseevent e JOIN cases_case c ON c.id = e.case_id
           LEFT JOIN organisations_municipality mu ON mu.id = c.municipality_id
      WHERE e.kind = '{kind}' AND e.occurred_at >= %(start)s AND e.occurred_at < %(end)s
        AND {NOT_CANCELLED} {extra}"""


BASELINE = [
    # R-INS-2/3
    f"""WITH t AS ({_cases_cte("admitted_at")})
    SELECT m, sub, mu, site, ward, count(*),
      count(*) FILTER (WHERE notice_sent_at IS NOT NULL AND NOT notice_late),
      count(*) FILTER (WHERE notice_sent_at IS NOT NULL AND notice_late),
      count(*) FILTER (WHERE notice_sent_at IS NULL AND need_assessed_at <= %(overdue)s),
      count(*) FILTER (WHERE notice_sent_at IS NULL AND need_assessed_at > %(overdue)s)
    FROM t GROUP BY {SETS}""",
    # R-LAW-2
    f"""WITH t AS (SELECT *, (discharged_at AT TIME ZONE %(tz)s)::date
                           - (discharge_ready_at AT TIME ZONE %(tz)s)::date AS days
                  FROM ({_cases_cte("discharged_at")}) s)
    SELECT m, sub, mu, site, ward, count(*), count(days), sum(days),
      percentile_cont(0.5) WITHIN GROUP (ORDER BY days),
      count(*) FILTER (WHERE days <= 0), count(*) FILTER (WHERE days = 1), count(*) FILTER (WHERE days = 2),
      count(*) FILTER (WHERE days = 3), count(*) FILTER (WHERE days BETWEEN 4 AND 7),
      count(*) FILTER (WHERE days BETWEEN 8 AND 14), count(*) FILTER (WHERE days >= 15)
    FROM t GROUP BY {SETS}""",
    # R-INS-5
    f"""WITH t AS (SELECT *, (data->>'new')::date - (data->>'old')::date AS moved
                  FROM ({_events_cte("expected_date_changed")}) s)
    SELECT m, sub, mu, site, ward, count(*), count(DISTINCT case_id),
      coalesce(sum(moved) FILTER (WHERE moved > 0), 0), coalesce(-sum(moved) FILTER (WHERE moved < 0), 0)
    FROM t WHERE moved IS NOT NULL GROUP BY {SETS}""",
    f"""WITH t AS (SELECT *, (data->>'new')::date - (data->>'old')::date AS moved
                  FROM ({_events_cte("expected_date_changed")}) s)
    SELECT m, sub, mu, site, ward, data->>'reason', count(*), sum(abs(moved))
    FROM t WHERE moved IS NOT NULL
    GROUP BY GROUPING SETS ((m, data->>'reason'), (m, sub, data->>'reason'), (m, mu, data->>'reason'),
                            (m, site, data->>'reason'), (m, ward, data->>'reason'))""",
    # closed
    f"""WITH t AS ({_events_cte("closed", "AND coalesce(e.data->>'from_status', '') <> 'cancelled'")})
    SELECT m, sub, mu, site, ward, count(*),
      count(*) FILTER (WHERE (data->'without_discharge_ready')::boolean),
      count(*) FILTER (WHERE (data->'without_discharge_notice')::boolean)
    FROM t GROUP BY {SETS}""",
    # R-SIP-K-1
    f"""WITH t AS ({_cases_cte("discharge_ready_at", "AND c.sip_needed")})
    SELECT m, sub, mu, site, ward,
      count(*) FILTER (WHERE sip_summons_sent_at <= discharge_ready_at + %(sip)s),
      count(*) FILTER (WHERE sip_summons_sent_at > discharge_ready_at + %(sip)s),
      count(*) FILTER (WHERE sip_summons_sent_at IS NULL AND discharge_ready_at <= %(sip_overdue)s),
      count(*) FILTER (WHERE sip_summons_sent_at IS NULL AND discharge_ready_at > %(sip_overdue)s)
    FROM t GROUP BY {SETS}""",
    # meetings
    f"""WITH t AS (
      SELECT date_trunc('month', g.starts_at AT TIME ZONE %(tz)s)::date AS m, mu.subregion_id AS sub,
             c.municipality_id AS mu, c.site_id AS site, c.ward_id AS ward, g.form
      FROM cases_meeting g JOIN cases_case c ON c.id = g.case_id
           LEFT JOIN organisations_municipality mu ON mu.id = c.municipality_id
      WHERE g.starts_at >= %(start)s AND g.starts_at < %(end)s AND {NOT_CANCELLED})
    SELECT m, sub, mu, site, ward, count(*), count(*) FILTER (WHERE form = 'video'),
      count(*) FILTER (WHERE form = 'phone'), count(*) FILTER (WHERE form = 'on_site')
    FROM t GROUP BY {SETS}""",
]


def baseline(first: dt.date, last: dt.date, now: dt.datetime) -> int:
    months = stats_refresh.months_between(first, last)
    deadline = case_rules.sip_summons_deadline()
    params = {
        "tz": "Europe/Stockholm",
        "start": stats_refresh._local_midnight(months[0]),
        "end": stats_refresh._local_midnight(stats_refresh.next_month(months[-1])),
        "overdue": now - stats_refresh.NOTICE_DEADLINE,
        "sip": deadline,
        "sip_overdue": now - deadline,
    }
    rows = 0
    with connection.cursor() as cursor:
        for sql in BASELINE:
            cursor.execute(sql, params)
            rows += len(cursor.fetchall())
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="reuse the rows of an earlier run if enough")
    parser.add_argument(
        "--first", default="2025-11", help="first month YYYY-MM (bench/cases_dataset.py: its first_month)"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database of your own.")
    call_command("migrate", verbosity=0)
    call_command("load_reference_data", verbosity=0)
    first = dt.date.fromisoformat(f"{args.first}-01")
    last = first
    for _m in range(args.months - 1):
        last = stats_refresh.next_month(last)
    existing = Case.objects.count()
    if not (args.keep and existing >= args.cases):
        started = time.perf_counter()
        counts = synthetic.generate(args.cases, first, args.months)
        print(f"generated {counts} in {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"cases in database: {Case.objects.count():,}; months {first:%Y-%m}..{last:%Y-%m}")
    now = stats_refresh.timezone.now()
    refresh_times, baseline_times = [], []
    baseline(first, last, now)  # warm the cache once, for both
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        run = stats_refresh.refresh(first, last, now=now)
        refresh_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        rows = baseline(first, last, now)
        baseline_times.append(time.perf_counter() - t0)
    print(f"refresh:  rows written {run.rows:,}; best {min(refresh_times):.2f} s, median "
          f"{statistics.median(refresh_times):.2f} s  {[round(t, 2) for t in refresh_times]}")  # fmt: skip
    print(f"baseline: rows fetched {rows:,}; best {min(baseline_times):.2f} s, median "
          f"{statistics.median(baseline_times):.2f} s  {[round(t, 2) for t in baseline_times]}")  # fmt: skip
    ratio = statistics.median(refresh_times) / statistics.median(baseline_times)
    print(f"ratio refresh/baseline (median): {ratio:.2f}")


if __name__ == "__main__":
    main()
