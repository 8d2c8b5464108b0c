"""Load test: p50/p95 latency and throughput of `GET /healthz` and of an access-logged API read
(`GET /api/v1/persons/{id}` with a SYSTEM token) side by side, against gunicorn with 2 workers.

    # on the database bench/generate.py filled:
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/brygga_bench
    python bench/load.py --requests 2000 --concurrency 8
    # self-contained smoke run (temporary SQLite, tiny data set):
    python bench/load.py --smoke

Loopback only; a bounded number of requests per endpoint, through a thread pool with http.client (one new
connection per request: gunicorn's sync workers close each connection). Prints a Markdown table and the
ratio, and checks that every API read wrote exactly one access-log entry."""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HOST = "127.0.0.1"


def bench_secret_key(env: dict[str, str]) -> str:
    """The secret key the benchmark server runs with: the environment's, else the one the data set was built
    with (settings keep it in ``<BRYGGA_VAR_DIR>/secret_key``: the TOTP secrets are sealed and the access
    log's MACs keyed with keys derived from it, so a fresh key would refuse every second-factor code), else
    a fresh one for a throw-away database."""
    if env.get("BRYGGA_SECRET_KEY"):
        return env["BRYGGA_SECRET_KEY"]
    key_file = Path(env.get("BRYGGA_VAR_DIR", ROOT / "var")) / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    return secrets.token_urlsafe(50)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Result:
    name: str
    latencies_ms: list[float]
    errors: int
    wall_s: float

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        k = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))  # nearest-rank method
        return ordered[k]

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.wall_s if self.wall_s else 0.0


def request(port: int, path: str, headers: dict[str, str]) -> tuple[int, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        status = response.status
    finally:
        conn.close()
    return status, (time.perf_counter() - started) * 1000


def run(name: str, port: int, paths: list[str], headers: dict[str, str], concurrency: int) -> Result:
    latencies: list[float] = []
    errors = 0

    def one(path: str) -> tuple[int, float]:
        try:
            return request(port, path, headers)
        except OSError:
            return 0, 0.0

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for status, ms in pool.map(one, paths):
            if status == 200:
                latencies.append(ms)
            else:
                errors += 1
    return Result(name, latencies, errors, time.perf_counter() - started)


def start_gunicorn(
    env: dict[str, str],
    port: int,
    workers: int,
    log_path: Path,
    threads: int = 1,
    tree: Path = ROOT,
) -> subprocess.Popen[bytes]:
    """gunicorn serving the code of ``tree`` (this checkout, or another one to compare before and after)."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [
        str(gunicorn),
        "brygga.wsgi:application",
        "--workers",
        str(workers),
        "--bind",
        f"{HOST}:{port}",
        "--chdir",
        str(tree),
        "--pythonpath",
        str(tree),
    ]
    if threads > 1:  # gthread workers: several requests per process
        command += ["--threads", str(threads)]
    log = log_path.open("wb")
    process = subprocess.Popen(command, cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited ({process.returncode}):\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"gunicorn did not answer /healthz within 60 s:\n{log_path.read_text()}")


def access_log_count(env: dict[str, str]) -> int:
    code = (
        "import django; django.setup(); from brygga.access.models import AccessLogEntry; "
        "print(AccessLogEntry.objects.count())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return int(done.stdout.strip().splitlines()[-1])


def markdown(results: list[Result], concurrency: int) -> str:
    lines = [
        "| endpoint | requests | errors | concurrency | p50 ms | p95 ms | max ms | throughput req/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {len(r.latencies_ms) + r.errors} | {r.errors} | {concurrency} | "
            f"{r.percentile(50):.1f} | {r.percentile(95):.1f} | "
            f"{max(r.latencies_ms, default=float('nan')):.1f} | {r.throughput:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="requests per endpoint")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured requests per endpoint first")
    parser.add_argument("--manifest", type=Path, default=None, help="bench.json written by generate.py")
    parser.add_argument("--smoke", action="store_true", help="temporary SQLite, tiny data, few requests")
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= 100_000 or not 1 <= args.concurrency <= 64:
        parser.error("--requests must be 1..100000 and --concurrency 1..64")

    env = {k: v for k, v in os.environ.items() if not k.startswith("BRYGGA_DEBUG")}
    env.update(
        DJANGO_SETTINGS_MODULE="brygga.settings",
        BRYGGA_DEBUG="0",
        BRYGGA_SSL_REDIRECT="0",
        BRYGGA_LOCAL_LOGIN="1",  # the bench users are local accounts (off by default in production)
        BRYGGA_ALLOWED_HOSTS=HOST,
        BRYGGA_SECRET_KEY=bench_secret_key(env),
        BRYGGA_LOG_LEVEL="WARNING",
    )
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if args.smoke:
        tmp = tempfile.TemporaryDirectory(prefix="brygga-bench-")
        var = Path(tmp.name)
        env.update(BRYGGA_VAR_DIR=str(var), DATABASE_URL=f"sqlite:///{var / 'bench.sqlite3'}")
        args.requests, args.concurrency, args.warmup = min(args.requests, 200), min(args.concurrency, 4), 10
        args.manifest = var / "bench.json"
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "generate.py"), "--persons", "500", "--units", "5",
             "--users", "20", "--token-persons", "200", "--manifest", str(args.manifest)],
            cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    var_dir = Path(env.get("BRYGGA_VAR_DIR", ROOT / "var"))
    manifest_path = args.manifest or var_dir / "bench.json"
    if not manifest_path.exists():
        raise SystemExit(
            f"{manifest_path} is missing: run bench/generate.py against the same DATABASE_URL first."
        )
    manifest = json.loads(manifest_path.read_text())
    ids: list[int] = manifest["person_ids"]
    auth = {"Authorization": f"Bearer {manifest['token']}", "Accept": "application/json"}

    port = free_port()
    log_path = var_dir / "bench-gunicorn.log" if not tmp else Path(tmp.name) / "gunicorn.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    server = start_gunicorn(env, port, args.workers, log_path)
    try:

        def person_paths(n: int) -> list[str]:
            return [f"/api/v1/persons/{ids[i % len(ids)]}" for i in range(n)]

        run("warm-up", port, ["/healthz"] * args.warmup, {}, args.concurrency)
        run("warm-up", port, person_paths(args.warmup), auth, args.concurrency)
        before = access_log_count(env)
        health = run("GET /healthz", port, ["/healthz"] * args.requests, {}, args.concurrency)
        person = run(
            "GET /api/v1/persons/{id} (access-logged)",
            port,
            person_paths(args.requests),
            auth,
            args.concurrency,
        )
        logged = access_log_count(env) - before
    finally:
        server.terminate()
        server.wait(timeout=20)

    print(
        f"\nbrygga load test — {manifest['database']}, {manifest['persons']} persons, "
        f"{manifest['involvements']} involvements; gunicorn {args.workers} workers; "
        f"{platform.node()} ({os.cpu_count()} CPUs, Python {platform.python_version()})\n"
    )
    print(markdown([health, person], args.concurrency))
    ratio_p50 = person.percentile(50) / health.percentile(50)
    ratio_tp = health.throughput / person.throughput if person.throughput else float("inf")
    print(
        f"\nRatio API read / healthz: p50 latency ×{ratio_p50:.1f}, p95 ×"
        f"{person.percentile(95) / health.percentile(95):.1f}; throughput ÷{ratio_tp:.1f}"
    )
    expected = len(person.latencies_ms)
    print(f"Access-log entries written during the API run: {logged} (successful reads: {expected})")
    if tmp:
        tmp.cleanup()
    failed = health.errors or person.errors or logged != expected
    if failed:
        print("FAILED: errors or reads without exactly one log entry", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
