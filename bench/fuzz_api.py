"""Fuzz the JSON API from its own OpenAPI document with Schemathesis (issue 20 item 1; ADR 0802).

Starts gunicorn (debug off) on a free loopback port over a fresh database with the reference and demo data,
issues API tokens for a few personas (an EHR system at a ward, a ward nurse, a municipal contact point, a
statistics reader), and lets Schemathesis generate requests from /api/v1/openapi.json for each of them,
within a time budget. Fails (exit 1) on any server error (5xx), any answer that breaks the documented schema,
an undocumented status code or content type.

    createdb -h 127.0.0.1 -U postgres brygga_fuzz
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/brygga_fuzz python bench/fuzz_api.py --max-time 120
    python bench/fuzz_api.py --smoke       # temporary SQLite, 20 s per persona

The database is migrated and filled by the script: give it a database of its own."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import HOST, free_port, start_gunicorn  # noqa: E402

# (demo user, unit name, label): the personas whose tokens the fuzzer uses.
PERSONAS = [
    ("sjukskoterska", "Sahlgrenska, medicinavdelning", "ward nurse"),
    ("kontaktpunkt", "Göteborg kontaktpunkt", "municipal contact point"),
    ("fastvardkontakt", "Närhälsan Göteborg vårdcentral", "care coordinator"),
]
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)

ISSUE_TOKENS = """
import json, django
django.setup()
from brygga.accounts.models import ApiToken, Membership
from brygga.accounts.permissions import Role
from brygga.organisations.models import Unit
from brygga.accounts.models import User
personas = json.loads({personas!r})
tokens = {{}}
for username, unit_name, _label in personas:
    membership = Membership.objects.get(user__username=username, unit__name=unit_name)
    _token, raw = ApiToken.issue(membership, "fuzz")
    tokens[username] = raw
system, _ = User.objects.get_or_create(username="fuzz-ehr", defaults={{"is_service_account": True}})
ward = Unit.objects.get(name="Sahlgrenska, medicinavdelning")
membership, _ = Membership.objects.get_or_create(
    user=system, unit=ward, defaults={{"role": Role.SYSTEM.value, "valid_from": "2000-01-01"}}
)
_token, tokens["fuzz-ehr"] = ApiToken.issue(membership, "fuzz")
print(json.dumps(tokens))
"""


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-time", type=int, default=60, help="seconds of fuzzing per persona")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--smoke", action="store_true", help="temporary SQLite, 20 s per persona")
    args = parser.parse_args(argv)
    if not 5 <= args.max_time <= 3600:
        parser.error("--max-time must be 5..3600 seconds")

    st = Path(sys.executable).with_name("st")
    if not st.exists():
        raise SystemExit("schemathesis is not installed: make install (it is a dev dependency)")
    tmp = tempfile.TemporaryDirectory(prefix="brygga-fuzz-")
    var = Path(tmp.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRYGGA_DEBUG")}
    env.update(
        DJANGO_SETTINGS_MODULE="brygga.settings",
        BRYGGA_DEBUG="0",
        BRYGGA_SSL_REDIRECT="0",
        BRYGGA_ALLOWED_HOSTS=HOST,
        BRYGGA_SECRET_KEY=env.get("BRYGGA_SECRET_KEY") or secrets.token_urlsafe(50),
        BRYGGA_VAR_DIR=str(var),
        BRYGGA_DEMO_SYNTHETIC_STAYS="0",
        BRYGGA_REQUIRE_TOTP="0",
        # No clamd here: a refused upload is a deliberate 503 (DOK-BIL-5, fail closed), which the fuzzer would
        # count as a server error. Scanning is tested against the real clamd in tests/test_documents_clamd.py.
        BRYGGA_REQUIRE_VIRUS_SCAN="0",
        BRYGGA_LOG_LEVEL="WARNING",
    )
    if args.smoke:
        env["DATABASE_URL"] = f"sqlite:///{var / 'fuzz.sqlite3'}"
        args.max_time = min(args.max_time, 20)
    elif not env.get("DATABASE_URL"):
        raise SystemExit("DATABASE_URL must name a database of its own (or use --smoke)")

    manage(env, "migrate", "--noinput")
    manage(env, "load_reference_data")
    manage(env, "load_demo_data")
    issued = subprocess.run(
        [sys.executable, "-c", ISSUE_TOKENS.format(personas=json.dumps(PERSONAS))],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    tokens: dict[str, str] = json.loads(issued.stdout.strip().splitlines()[-1])

    port = free_port()
    log_path = var / "gunicorn.log"
    server = start_gunicorn(env, port, args.workers, log_path)
    failed = False
    try:
        for username, token in tokens.items():
            print(f"== Schemathesis as {username} ({args.max_time} s)", flush=True)
            done = subprocess.run(
                [
                    str(st),
                    "run",
                    f"http://{HOST}:{port}/api/v1/openapi.json",
                    "--checks",
                    CHECKS,
                    "--max-time",
                    str(args.max_time),
                    # One worker: hypothesis describes its strategies by parsing lambdas' source, which fails
                    # now and then when two threads do it at once ("AST constructor recursion depth").
                    "--workers",
                    "1",
                    "--request-timeout",
                    "30",
                    "--header",
                    f"Authorization: Bearer {token}",
                    "--suppress-health-check",
                    "all",
                    "--no-color",
                    "--output-truncate",
                    "true",
                ],
                cwd=var,
                env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
            )
            failed = failed or done.returncode != 0
    finally:
        server.terminate()
        server.wait(timeout=20)
        errors = [line for line in log_path.read_text().splitlines() if "Traceback" in line]
        if errors:
            # Schemathesis already fails on every 5xx answer. A traceback with no 5xx is an exception the code
            # logged and handled; it is printed for whoever reads the run, not counted as a failure.
            print(f"warning: gunicorn logged {len(errors)} tracebacks without a server-error answer:")
            text = log_path.read_text()
            for start in [i for i in range(len(text)) if text.startswith("Traceback", i)][:5]:
                print(text[max(0, start - 300) : start + 3000])
        tmp.cleanup()
    print("fuzz: FAILED" if failed else "fuzz: no server error, no schema violation")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
