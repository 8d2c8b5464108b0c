"""The inbox and the case page timed in-process against two code trees, alternately, in one run (issue 17,
ADR 0700): each tree runs in its own worker process (this script with ``--worker``, the tree first on
``sys.path``, the same virtualenv and the same database), and the driver asks the workers in turn for a batch
of requests of the same page and role, so both trees see the same load on a shared machine.

    git worktree add --detach /tmp/before-17b <commit>
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/brygga_bench100k BRYGGA_VAR_DIR=/tmp/bench100k
    .venv/bin/python bench/compare_pages.py --before /tmp/before-17b --after . --rounds 6 --batch 5

Prints one Markdown table row per page and role: p50/p95 of each tree (ms, Django test client, production
settings, ``force_login`` as a benchmark account of bench/cases_dataset.py), the SQL time
(``execute_wrapper``) and the queries per request.
Reads only (the pages log their reads in the access log, as they always do), except the page `message`, which
posts messages to the data set's cases (for a benchmark copy)."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["inbox", "case"]  # and "sip" (the SIP page) and "message" (a message's POST, a write) with --pages
MESSAGE = {
    "category": "carecoordination",
    "subject": "Planering inför hemgång",
    "body": "Jämförelse: hur ser planeringen ut inför hemgång?",
}
ROLES = ["ward_nurse", "municipal_contact", "care_coordinator"]


def _worker(tree: Path, manifest_path: Path | None) -> int:
    """Serve batches: read ``role page n`` lines, answer one JSON line with the times and query counts."""
    sys.path.insert(0, str(tree))
    os.chdir(tree)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "brygga.settings")
    os.environ["BRYGGA_DEBUG"] = "0"
    os.environ.setdefault("BRYGGA_SSL_REDIRECT", "0")
    os.environ.setdefault("BRYGGA_ALLOWED_HOSTS", "testserver")
    var_dir = Path(os.environ.get("BRYGGA_VAR_DIR", tree / "var"))
    # Each tree collects its own static files (their manifests may differ).
    tag = hashlib.sha256(str(tree.resolve()).encode()).hexdigest()[:8]
    os.environ["BRYGGA_STATIC_ROOT"] = str(var_dir / f"bench-static-{tag}")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    import brygga
    from brygga.accounts.models import User

    assert Path(brygga.__file__).resolve().is_relative_to(tree.resolve()), brygga.__file__
    manifest = json.loads((manifest_path or Path(settings.VAR_DIR) / "bench1m.json").read_text())
    clients: dict[str, tuple[Client, list[int]]] = {}
    consented: list[bool] = []
    rng = random.Random(1)
    queries = [0]
    sql_ms = [0.0]

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        queries[0] += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_ms[0] += (time.perf_counter() - started) * 1000

    print(json.dumps({"ready": str(tree)}), flush=True)
    for line in sys.stdin:
        role, page, n = line.split()
        if role not in clients:
            account = next(u for u in manifest["web_users"] if u["role"] == role)
            client = Client()
            client.force_login(User.objects.get(username=account["username"]))
            clients[role] = (client, manifest["case_samples"][str(account["unit_id"])])
            for _ in range(2):  # warm the caches of this role's pages
                client.get("/arenden/")
                client.get(f"/arenden/{clients[role][1][0]}/")
                client.get("/sip/")
        client, cases = clients[role]
        times, counts, sqls = [], [], []
        for _ in range(int(n)):
            path = {"inbox": "/arenden/", "sip": "/sip/"}.get(page) or f"/arenden/{rng.choice(cases)}/"
            if page == "message" and not consented:
                from bench.users_bench import ensure_consents

                ensure_consents(manifest)  # a message needs a legal basis (R-SEK-3), as in the load benchmark
                consented.append(True)
            queries[0] = 0
            sql_ms[0] = 0.0
            with connection.execute_wrapper(count):
                started = time.perf_counter()
                if page == "message":  # the POST alone; its redirect is the case page
                    response = client.post(
                        f"{path}message/", {**MESSAGE, "body": f"{MESSAGE['body']} {time.time_ns()}"}
                    )
                else:
                    response = client.get(path)
                elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != (302 if page == "message" else 200):
                raise SystemExit(f"{path} as {role}: {response.status_code}")
            times.append(elapsed)
            counts.append(queries[0])
            sqls.append(sql_ms[0])
        print(json.dumps({"times": times, "queries": counts, "sql": sqls}), flush=True)
    return 0


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--worker", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--before", type=Path)
    parser.add_argument("--after", type=Path, default=ROOT)
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--roles", default=",".join(ROLES))
    parser.add_argument("--rounds", type=int, default=6, help="alternations per page and role")
    parser.add_argument("--batch", type=int, default=5, help="requests per tree and round")
    parser.add_argument("--manifest", type=Path, default=None)
    parser.add_argument(
        "--before-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for the before tree only (e.g. DATABASE_URL of a copy without a "
        "migration, or BRYGGA_DB_PREPARED=0): the same code compared under two settings",
    )
    args = parser.parse_args(argv)
    if args.worker is not None:
        return _worker(args.worker, args.manifest)
    if args.before is None:
        parser.error("--before is required")
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    workers = {}
    before_env = dict(item.split("=", 1) for item in args.before_env)
    for name, tree in trees.items():
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(tree)]
        if args.manifest:
            command += ["--manifest", str(args.manifest)]
        env = {**os.environ, **before_env} if name == "before" else None
        workers[name] = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=tree, env=env
        )
    for name, proc in workers.items():
        ready = proc.stdout.readline()  # type: ignore[union-attr]
        if not ready:
            raise SystemExit(f"the {name} worker did not start")
    print(f"load average at start: {os.getloadavg()}")
    print(
        "| page (role) | before p50 ms | after p50 ms | before p95 ms | after p95 ms | after/before p50 "
        "| SQL p50 ms before → after | queries before → after |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---|")
    try:
        for page in args.pages.split(","):
            for role in args.roles.split(","):
                results: dict[str, dict[str, list[float]]] = {n: {"t": [], "q": [], "s": []} for n in trees}
                for round_ in range(args.rounds):
                    order = list(trees) if round_ % 2 == 0 else list(reversed(trees))
                    for name in order:
                        proc = workers[name]
                        proc.stdin.write(f"{role} {page} {args.batch}\n")  # type: ignore[union-attr]
                        proc.stdin.flush()  # type: ignore[union-attr]
                        answer = proc.stdout.readline()  # type: ignore[union-attr]
                        if not answer:
                            raise SystemExit(f"the {name} worker stopped ({page} as {role})")
                        data = json.loads(answer)
                        results[name]["t"] += data["times"]
                        results[name]["q"] += data["queries"]
                        results[name]["s"] += data["sql"]
                b, a = results["before"], results["after"]
                bp50, ap50 = statistics.median(b["t"]), statistics.median(a["t"])
                print(
                    f"| {page} ({role}) | {bp50:.0f} | {ap50:.0f} | {_p95(b['t']):.0f} | {_p95(a['t']):.0f} "
                    f"| {ap50 / bp50:.2f} "
                    f"| {statistics.median(b['s']):.0f} → {statistics.median(a['s']):.0f} "
                    f"| {statistics.median(b['q']):.0f} → "
                    f"{statistics.median(a['q']):.0f} |",
                    flush=True,
                )
    finally:
        for proc in workers.values():
            proc.stdin.close()  # type: ignore[union-attr]
            proc.wait(timeout=60)
    print(f"load average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
