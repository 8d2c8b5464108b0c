"""Build the discharge-process benchmark data set: N synthetic stays (default 1,000,000: ten years of Västra
Götaland's volume) with their events, meetings, participants (ward, contact point, vårdcentral) and
involvements, by COPY (brygga.statistics.synthetic with ``participants=True``), then the accounts the load
test needs. Use a fresh PostgreSQL database of your own:

    psql -h 127.0.0.1 -U postgres -c "create database brygga_bench1m"
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/brygga_bench1m BRYGGA_VAR_DIR=/tmp/bench1m
    nice -n 10 .venv/bin/python bench/cases_dataset.py --cases 1000000 --years 10

Resumable: each chunk of stays is committed on its own, and a second run only adds the stays that are still
missing (it counts the synthetic cases already there), then (re)creates the accounts. Progress is printed per
chunk with the rate and an estimate of the time left.

Accounts (idempotent; all share one password, each web user has its own confirmed TOTP secret so the load
test logs in through the real login and second-factor pages):

- ``--web-users`` users with one membership each: 40 % ward nurses on the busiest wards, 30 % the
  municipalities' contact points, 30 % care coordinators at the busiest vårdcentraler (busiest = most open
  cases in the inbox);
- ``--stat-users`` users with the statistics role at the region's administration unit;
- one payment administrator (``gits_coordinator``) for the settlement benchmark;
- a service account with a SYSTEM API token at the busiest ward, and ``--ingest-persons`` persons
  (Skatteverket test numbers, full address, registered municipality and listed vårdcentral) without any case,
  for the API ingest of admissions.

Everything the load test needs (passwords, TOTP secrets, the token) goes to <BRYGGA_VAR_DIR>/bench1m.json
(mode 600) or --manifest."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "brygga.settings")

PASSWORD = "bench-1m-" + "x" * 16  # noqa: S105 — a benchmark account on a throw-away database
OPEN = ("admitted", "on_leave")


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--chunk", type=int, default=20_000)
    parser.add_argument("--web-users", type=int, default=50)
    parser.add_argument("--stat-users", type=int, default=5)
    parser.add_argument("--ingest-persons", type=int, default=30_000)
    parser.add_argument("--case-sample", type=int, default=200, help="open case ids per web user's unit")
    parser.add_argument("--manifest", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    import django

    django.setup()
    import pyotp
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command, get_commands
    from django.db import connection, transaction
    from django.db.models import Count
    from django.utils import timezone

    from bench.generate import test_identifiers
    from brygga.access.models import Involvement
    from brygga.accounts.models import ApiToken, Membership, User
    from brygga.accounts.permissions import Role
    from brygga.accounts.services import store_totp_secret, totp_secret
    from brygga.cases.models import Case, CaseEvent, Participant
    from brygga.organisations.models import Municipality, Unit
    from brygga.people.models import Person
    from brygga.statistics import synthetic

    timings: dict[str, float] = {}

    def step(name: str, started: float) -> None:
        timings[name] = round(time.perf_counter() - started, 1)
        print(f"  {name}: {timings[name]} s", flush=True)

    print(f"Database: {connection.vendor} {settings.DATABASES['default'].get('NAME')}", flush=True)
    t = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_reference_data", verbosity=0)
    step("migrate + reference data", t)

    # --- the stays ------------------------------------------------------------------------------------------
    existing = Case.objects.filter(external_id="").count()  # synthetic stays have no EHR id; ingested ones do
    missing = max(0, args.cases - existing)
    now = timezone.now()
    first = (timezone.localdate(now) - dt.timedelta(days=round(365.25 * args.years))).replace(day=1)
    print(f"Synthetic stays: {existing:,} present, {missing:,} to write ({first} .. now)", flush=True)
    if missing:
        t = time.perf_counter()

        def progress(counts: dict[str, int]) -> None:
            done, elapsed = counts["cases"], time.perf_counter() - t
            rate = done / elapsed if elapsed else 0
            left = (missing - done) / rate if rate else 0
            print(
                f"    {existing + done:,}/{args.cases:,} stays, {counts['events']:,} events, "
                f"{counts['participants']:,} participants; {rate:,.0f} stays/s, ~{left / 60:.1f} min left",
                flush=True,
            )

        counts = synthetic.generate(
            missing,
            first,
            months=args.years * 12,
            seed=args.seed + existing,
            chunk=args.chunk,
            until=now,
            participants=True,
            progress=progress,
        )
        step(f"{counts['cases']:,} stays by COPY", t)
        if "refresh_inbox" in get_commands():  # the inbox's denormalised columns (ADR 0105), when it has them
            t = time.perf_counter()
            call_command("refresh_inbox", verbosity=0)
            step("refresh_inbox", t)
        if connection.vendor == "postgresql":
            t = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            step("ANALYZE", t)

    # --- accounts -------------------------------------------------------------------------------------------
    t = time.perf_counter()
    rng = random.Random(args.seed)
    password = make_password(PASSWORD)
    open_by_unit = dict(
        Participant.objects.filter(status="active", case__status__in=OPEN)
        .values("unit")
        .annotate(n=Count("id"))
        .values_list("unit", "n")
    )

    def busiest(kind: str, n: int) -> list[Unit]:
        units = list(Unit.objects.filter(kind=kind, is_active=True))
        units.sort(key=lambda u: -open_by_unit.get(u.pk, 0))
        return units[: max(1, n)]

    def account(username: str, unit: Unit, role: Role, totp: bool = True) -> dict[str, object]:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": "Bänk", "last_name": username, "password": password},
        )
        if created or not user.totp_secret:
            user.password = password
            user.save(update_fields=["password"])
            if totp:  # sealed at rest (ADR 0502); the manifest keeps the secret for the load generator
                store_totp_secret(user, pyotp.random_base32(), confirmed=True)
        Membership.objects.update_or_create(user=user, unit=unit, defaults={"role": role.value})
        return {"username": username, "totp_secret": totp_secret(user) or "", "unit_id": unit.pk,
                "unit": unit.name, "role": role.value}  # fmt: skip

    n_ward = round(args.web_users * 0.4)
    n_contact = round(args.web_users * 0.3)
    n_vc = args.web_users - n_ward - n_contact
    plan = [
        (Unit.Kind.WARD, Role.WARD_NURSE, n_ward, busiest(Unit.Kind.WARD, max(1, n_ward // 2))),
        (Unit.Kind.MUNICIPAL_CONTACT, Role.MUNICIPAL_CONTACT, n_contact,
         busiest(Unit.Kind.MUNICIPAL_CONTACT, 8)),
        (Unit.Kind.PRIMARY_CARE, Role.CARE_COORDINATOR, n_vc, busiest(Unit.Kind.PRIMARY_CARE, 8)),
    ]  # fmt: skip
    web_users = []
    number = 0
    for _kind, role, count, units in plan:
        for i in range(count):
            web_users.append(account(f"bench-web-{number:03d}", units[i % len(units)], role))
            number += 1
    samples: dict[int, list[int]] = {}
    for unit_id in {u["unit_id"] for u in web_users}:
        ids = list(
            Participant.objects.filter(unit_id=unit_id, status="active", case__status__in=OPEN)
            .order_by("case_id")
            .values_list("case_id", flat=True)
        )
        samples[unit_id] = rng.sample(ids, min(len(ids), args.case_sample))
    region_unit = Unit.objects.filter(kind=Unit.Kind.ADMINISTRATION).order_by("pk").first()
    assert region_unit is not None, "load_reference_data creates the region's administration unit"
    stat_users = [
        account(f"bench-stat-{n:02d}", region_unit, Role.STATISTICS) for n in range(args.stat_users)
    ]
    payment_user = account("bench-payment", region_unit, Role.GITS_COORDINATOR)
    step(f"{len(web_users) + len(stat_users) + 1} accounts", t)

    # --- API ingest: a SYSTEM token at the busiest ward and persons without any stay ----------------------
    t = time.perf_counter()
    ingest_ward = busiest(Unit.Kind.WARD, 1)[0]
    system, _ = User.objects.get_or_create(
        username="bench-ingest-system", defaults={"is_service_account": True}
    )
    membership, _ = Membership.objects.update_or_create(
        user=system, unit=ingest_ward, defaults={"role": Role.SYSTEM.value}
    )
    ApiToken.objects.filter(membership=membership).delete()
    _token, raw_token = ApiToken.issue(membership, "bench-1m-ingest")
    municipalities = list(Municipality.objects.order_by("pk"))
    vc_of = {u.municipality_id: u for u in Unit.objects.filter(kind=Unit.Kind.PRIMARY_CARE)}
    identifiers = test_identifiers(args.ingest_persons, start=dt.date(1935, 1, 1))
    known = set(
        Person.objects.filter(identifier__in=[i for i, _ in identifiers]).values_list("identifier", flat=True)
    )
    rows = []
    for identifier, birth in identifiers:
        if identifier in known:
            continue
        municipality = rng.choice(municipalities)
        rows.append(
            Person(
                identifier=identifier,
                id_kind="personnummer",
                birth_date=birth,
                given_name=rng.choice(["Anna", "Bo", "Carin", "Dag", "Elsa", "Frans"]),
                family_name=rng.choice(["Inskrivning", "Testsson", "Mätdotter"]),
                street_address=f"Bänkgatan {rng.randint(1, 200)}",
                postal_code=f"{rng.randint(40000, 54999)}",
                city=municipality.name,
                registered_municipality=municipality,
                listed_unit=vc_of.get(municipality.pk),
            )
        )
    with transaction.atomic():
        Person.objects.bulk_create(rows, batch_size=5000)
    step(f"ingest token and {len(rows):,} new ingest persons", t)

    manifest = {
        "database": connection.vendor,
        "built_at": timezone.now().isoformat(),
        "cases": Case.objects.count(),
        "open_cases": Case.objects.filter(status__in=OPEN).count(),
        "events": CaseEvent.objects.count(),
        "participants": Participant.objects.count(),
        "involvements": Involvement.objects.count(),
        "persons": Person.objects.count(),
        "first_month": first.isoformat(),
        "password": PASSWORD,
        "web_users": web_users,
        "case_samples": {str(k): v for k, v in samples.items()},
        "stat_users": stat_users,
        "payment_user": payment_user,
        "ingest": {
            "token": raw_token,
            "ward": ingest_ward.name,
            "ward_id": ingest_ward.pk,
            "identifiers": [i for i, _ in identifiers],
        },  # fmt: skip
        "timings_s": timings,
    }
    path = args.manifest or Path(settings.VAR_DIR) / "bench1m.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest))
    path.chmod(0o600)
    print(
        f"Data set: {manifest['cases']:,} cases ({manifest['open_cases']:,} open), "
        f"{manifest['events']:,} events, "
        f"{manifest['participants']:,} participants, {manifest['involvements']:,} involvements. "
        f"Manifest (passwords, TOTP secrets, token): {path}",
        flush=True,
    )
    return manifest


if __name__ == "__main__":
    main()
