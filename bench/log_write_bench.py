"""The access log's write for a list of persons, with its commit, timed in-process against two databases in
turn (issue 17, ADR 0708): e.g. a copy of the 1,000,000-case set that still has the log's foreign-key
constraints and one migrated without them. Writes real entries (``bench-probe``) into both databases: use
benchmark copies only.

    createdb -h 127.0.0.1 -U postgres -T brygga_bench1m brygga_bench1m_fk   # before migrating brygga_bench1m
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/brygga_bench1m BRYGGA_VAR_DIR=/tmp/bench1m
    .venv/bin/python bench/log_write_bench.py --other brygga_bench1m_fk --rounds 8 --lists 10

Prints the p50 and p90 of one list's INSERT and COMMIT per database.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--other", required=True, help="the second database's name (same server)")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--lists", type=int, default=10, help="lists written per database and round")
    parser.add_argument("--persons", type=int, default=50)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "brygga.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections, transaction

    from brygga.access import services
    from brygga.accounts.context import Actor
    from brygga.accounts.models import User
    from brygga.accounts.services import active_memberships
    from brygga.people.models import Person

    if connections["default"].vendor != "postgresql":
        raise SystemExit("PostgreSQL only: the two databases differ in their constraints there")
    other = copy.deepcopy(settings.DATABASES["default"])
    other["NAME"] = args.other
    connections.databases["other"] = other
    user = User.objects.filter(memberships__isnull=False).first()
    if user is None:
        raise SystemExit("no user with a membership: run bench/cases_dataset.py first")
    actor = Actor(user=user, membership=active_memberships(user)[0])
    times: dict[str, list[float]] = {"default": [], "other": []}
    offset = 5000
    for _ in range(args.rounds):
        for alias in times:
            persons = list(Person.objects.using(alias).order_by("id")[offset : offset + args.persons])
            entries = services._entries(actor, ((p, "read", "bench-probe", True) for p in persons))
            # The service writes through ``django.db.connection``: point it at this database for the loop.
            services.connection = connections[alias]  # type: ignore[attr-defined]
            for _ in range(args.lists):
                started = time.perf_counter()
                with transaction.atomic(using=alias):
                    services._insert_entries_as_json(entries)
                times[alias].append((time.perf_counter() - started) * 1000)
        offset += args.persons
    for alias, values in times.items():
        name = connections.databases[alias]["NAME"]
        ordered = sorted(values)
        print(
            f"{name}: {len(values)} lists of {args.persons}, insert and commit"
            f" p50 {statistics.median(values):.2f} ms, p90 {ordered[int(len(ordered) * 0.9)]:.2f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
