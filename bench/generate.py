"""Generate a benchmark data set: N persons (Skatteverket test-range numbers), extra units, users with
memberships, involvements, and one SYSTEM service account with an API token for bench/load.py.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/brygga_bench python bench/generate.py --persons 100000

Runs `migrate` and `load_reference_data` first, then bulk-inserts in batches. Use a fresh database: persons
that the access log refers to cannot be deleted (the log is append-only), so the generator does not clean up.
Writes the token and the person ids the token may read to <BRYGGA_VAR_DIR>/bench.json (or --manifest)."""

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

BATCH = 5000
GIVEN = ["Anna", "Bertil", "Cecilia", "David", "Eva", "Fredrik", "Greta", "Hans", "Ida", "Johan", "Karin"]
FAMILY = ["Testsson", "Provsson", "Exempeldotter", "Benchberg", "Lastlund", "Mätsson", "Siffersson"]
BENCH_UNIT_NAME = "Sahlgrenska, medicinavdelning"


def test_identifiers(count: int, start: dt.date = dt.date(1920, 1, 1)) -> list[tuple[str, dt.date]]:
    """Luhn-valid personnummer in Skatteverket's test range (birth number 980–999): 20 per birth date."""
    from brygga.core.identifiers import luhn_check_digit

    out: list[tuple[str, dt.date]] = []
    day = start
    while len(out) < count:
        for serial in range(980, 1000):
            body = day.strftime("%y%m%d") + f"{serial:03d}"
            out.append((day.strftime("%Y%m%d") + f"{serial:03d}" + luhn_check_digit(body), day))
            if len(out) == count:
                break
        day += dt.timedelta(days=1)
    return out


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--units", type=int, default=200, help="extra wards besides the reference units")
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--involvements", type=float, default=1.5, help="average involved units per person")
    parser.add_argument(
        "--token-persons", type=int, default=2_000, help="persons involved with the token's unit"
    )
    parser.add_argument("--manifest", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from brygga.access.models import Involvement
    from brygga.accounts.models import ApiToken, Membership, User
    from brygga.accounts.permissions import Role
    from brygga.organisations.models import Municipality, Unit
    from brygga.people.models import Person

    rng = random.Random(args.seed)
    timings: dict[str, float] = {}

    def step(name: str, started: float) -> None:
        timings[name] = round(time.perf_counter() - started, 2)
        print(f"  {name}: {timings[name]} s", flush=True)

    print(f"Database: {connection.vendor} {settings.DATABASES['default'].get('NAME')}", flush=True)
    t = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_reference_data", verbosity=0)
    step("migrate + reference data", t)

    identifiers = test_identifiers(args.persons)
    if Person.objects.filter(identifier__in=[i for i, _ in identifiers[:50]]).exists():
        raise SystemExit(
            "Benchmark persons already exist here: use a fresh database (see bench/generate.py)."
        )

    municipalities = list(Municipality.objects.all())
    base_units = list(Unit.objects.select_related("organisation", "municipality"))
    wards = [u for u in base_units if u.kind == Unit.Kind.WARD]
    primary_care = [u for u in base_units if u.kind == Unit.Kind.PRIMARY_CARE]

    t = time.perf_counter()
    new_units = []
    for n in range(args.units):
        template = rng.choice(wards)
        org_number = template.hsa_id[2:12]
        new_units.append(
            Unit(
                hsa_id=f"SE{org_number}-BENCH{n:06d}",
                name=f"{template.name} (bänk {n})",
                kind=Unit.Kind.WARD,
                organisation=template.organisation,
                municipality=template.municipality,
                site=template.site,
            )
        )
    Unit.objects.bulk_create(new_units, batch_size=BATCH)
    all_units = list(Unit.objects.all())
    step(f"{args.units} units", t)

    t = time.perf_counter()
    for start in range(0, len(identifiers), BATCH):
        rows = []
        for identifier, birth in identifiers[start : start + BATCH]:
            municipality = rng.choice(municipalities)
            rows.append(
                Person(
                    identifier=identifier,
                    id_kind="personnummer",
                    birth_date=birth,
                    given_name=rng.choice(GIVEN),
                    family_name=rng.choice(FAMILY),
                    street_address=f"Bänkgatan {rng.randint(1, 200)}",
                    postal_code=f"{rng.randint(40000, 54999)}",
                    city=municipality.name,
                    registered_municipality=municipality,
                    listed_unit=rng.choice(primary_care) if primary_care else None,
                    protected_identity=rng.random() < 0.002,
                )
            )
        with transaction.atomic():
            Person.objects.bulk_create(rows, batch_size=BATCH)
    person_ids = list(Person.objects.order_by("id").values_list("id", flat=True))
    step(f"{args.persons} persons", t)

    t = time.perf_counter()
    password = make_password("bench-" + "x" * 16)  # hashed once; every bench user shares it
    roles = [Role.WARD_NURSE, Role.PHYSICIAN, Role.MUNICIPAL_CONTACT, Role.HOME_CARE_NURSE, Role.READ_ONLY]
    User.objects.bulk_create(
        [
            User(username=f"bench{n:06d}", first_name="Bänk", last_name=f"{n}", password=password)
            for n in range(args.users)
        ],
        batch_size=BATCH,
    )
    users = list(User.objects.filter(username__startswith="bench").values_list("id", flat=True))
    memberships = []
    for user_id in users:
        for unit in rng.sample(all_units, k=rng.choice([1, 1, 2])):
            memberships.append(Membership(user_id=user_id, unit=unit, role=rng.choice(roles).value))
    Membership.objects.bulk_create(memberships, batch_size=BATCH, ignore_conflicts=True)
    step(f"{args.users} users, {len(memberships)} memberships", t)

    t = time.perf_counter()
    now = timezone.now()
    bench_unit = Unit.objects.get(name=BENCH_UNIT_NAME)
    token_persons = person_ids[: min(args.token_persons, len(person_ids))]
    involvements = [
        Involvement(
            person_id=pid, unit=bench_unit, kind="inpatient_case", source=f"bench:{pid}", started_at=now
        )
        for pid in token_persons
    ]
    total = int(len(person_ids) * args.involvements)
    for n in range(total):
        pid = person_ids[n % len(person_ids)]
        unit = all_units[rng.randrange(len(all_units))]
        involvements.append(
            Involvement(person_id=pid, unit=unit, kind="inpatient_case", source=f"bench-{n}", started_at=now)
        )
    for start in range(0, len(involvements), BATCH):
        with transaction.atomic():
            Involvement.objects.bulk_create(involvements[start : start + BATCH], ignore_conflicts=True)
    step(f"{len(involvements)} involvements", t)

    system, _ = User.objects.get_or_create(username="bench-system", defaults={"is_service_account": True})
    membership, _ = Membership.objects.get_or_create(
        user=system, unit=bench_unit, defaults={"role": Role.SYSTEM.value}
    )
    _token, raw = ApiToken.issue(membership, "bench")

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    manifest = {
        "database": connection.vendor,
        "persons": Person.objects.count(),
        "units": Unit.objects.count(),
        "users": User.objects.count(),
        "involvements": Involvement.objects.count(),
        "token": raw,
        "unit": bench_unit.name,
        "person_ids": token_persons,
        "timings_s": timings,
    }
    path = args.manifest or Path(settings.VAR_DIR) / "bench.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest))
    path.chmod(0o600)
    print(
        f"Generated: {manifest['persons']} persons, {manifest['units']} units, {manifest['users']} users, "
        f"{manifest['involvements']} involvements. Manifest (with the API token): {path}",
        flush=True,
    )
    return manifest


if __name__ == "__main__":
    main()
