"""A graceful reload of gunicorn under load fails no request (issue 20 item 8).

Starts gunicorn (sync workers, as in production) on a free port against a fresh SQLite database, keeps
``--concurrency`` clients requesting /healthz and the OpenAPI document for ``--seconds``, and sends the
master SIGHUP ``--reloads`` times meanwhile (what `systemctl reload` does after a deploy): gunicorn starts new
workers and lets the old ones finish their requests. Every request must answer 200; a refused connection, a
reset or any other status counts as a failure, and the script exits 1 if there is one.

    .venv/bin/python bench/reload_bench.py           # 30 s, 8 clients, 3 reloads
    .venv/bin/python bench/reload_bench.py --smoke   # 8 s, 4 clients, 2 reloads (tests/test_bench_smoke.py)
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import HOST, free_port, start_gunicorn  # noqa: E402 - bench/load.py, next to this file

# The health check and a view through the whole middleware stack (pages need collectstatic's manifest).
PATHS = ["/healthz", "/api/v1/openapi.json"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--reloads", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="a short run for CI")
    args = parser.parse_args(argv)
    if args.smoke:
        args.seconds, args.concurrency, args.reloads = 8, 4, 2

    with tempfile.TemporaryDirectory(prefix="brygga-reload-") as tmp:
        var = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRYGGA_DEBUG")}
        env.update(
            DJANGO_SETTINGS_MODULE="brygga.settings",
            BRYGGA_DEBUG="0",
            BRYGGA_SSL_REDIRECT="0",
            BRYGGA_LOG_LEVEL="WARNING",
            BRYGGA_VAR_DIR=str(var),
            DATABASE_URL=f"sqlite:///{var / 'reload.sqlite3'}",
            BRYGGA_SECRET_KEY=secrets.token_urlsafe(50),
            BRYGGA_ALLOWED_HOSTS=HOST,
            BRYGGA_ACCESS_LOG_ANCHOR="",
            BRYGGA_LOCAL_LOGIN="1",
        )
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        port = free_port()
        server = start_gunicorn(env, port, args.workers, var / "gunicorn.log")
        outcomes: Counter[str] = Counter()
        lock = threading.Lock()
        stop = threading.Event()

        def client(number: int) -> None:
            i = number
            while not stop.is_set():
                path = PATHS[i % len(PATHS)]
                i += 1
                try:
                    conn = http.client.HTTPConnection(HOST, port, timeout=30)
                    conn.request("GET", path, headers={"Host": HOST})
                    response = conn.getresponse()
                    response.read()
                    conn.close()
                    outcome = str(response.status)
                except OSError as exc:
                    outcome = type(exc).__name__
                with lock:
                    outcomes[outcome] += 1

        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.concurrency)]
        try:
            for thread in threads:
                thread.start()
            pause = args.seconds / (args.reloads + 1)
            for _ in range(args.reloads):
                time.sleep(pause)
                os.kill(server.pid, signal.SIGHUP)  # graceful reload: new workers, old ones finish
            time.sleep(pause)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        total = sum(outcomes.values())
        failed = total - outcomes["200"]
        reloads = (var / "gunicorn.log").read_text(errors="replace").count("Handling signal: hup")
        print(  # noqa: T201
            f"{total} requests during {args.reloads} reloads ({reloads} seen by gunicorn), "
            f"{args.concurrency} clients, {args.seconds:.0f} s: {failed} failed "
            f"({', '.join(f'{k}: {v}' for k, v in sorted(outcomes.items()))})"
        )
        if failed:
            print((var / "gunicorn.log").read_text(errors="replace")[-3000:])  # noqa: T201
        return 1 if failed or reloads < args.reloads or total == 0 else 0


if __name__ == "__main__":
    raise SystemExit(main())
