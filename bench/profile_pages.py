"""Where a page's server time goes: the inbox and the case page rendered in-process (Django test client,
production settings, ``force_login`` as a benchmark account of bench/cases_dataset.py), timed, then profiled
with cProfile (standard library). Used to find the Python time of issue 17; see docs/benchmarks.md.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/brygga_bench1m BRYGGA_VAR_DIR=/tmp/bench1m
    .venv/bin/python bench/profile_pages.py --role municipal_contact --page inbox --repeat 30 --top 40

Reads only (the pages log their reads in the access log, as they always do), except `--page message` and
`--page planning`, which post messages and planning bases to the data set's cases (for a benchmark copy)."""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import statistics
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--role", default="municipal_contact")
    parser.add_argument(
        "--page", default="inbox", choices=["inbox", "case", "sip", "healthz", "message", "planning"]
    )
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--manifest", type=Path, default=None)
    parser.add_argument("--queries", action="store_true", help="print the SQL of one request, then stop")
    parser.add_argument(
        "--where", action="store_true", help="with --queries: the brygga lines that ran each query"
    )
    parser.add_argument(
        "--template-lines",
        action="store_true",
        help="instead of cProfile: the template lines that took the most rendering time (self time)",
    )
    parser.add_argument(
        "--jinja-lines",
        action="store_true",
        help="instead of cProfile: the Jinja2 body's template lines that took the most time (self time)",
    )
    parser.add_argument(
        "--callers", default="", help="also print who called the functions matching this pattern (pstats)"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "brygga.settings")
    os.environ["BRYGGA_DEBUG"] = "0"
    os.environ.setdefault("BRYGGA_SSL_REDIRECT", "0")
    os.environ.setdefault("BRYGGA_ALLOWED_HOSTS", "testserver")
    var_dir = Path(os.environ.get("BRYGGA_VAR_DIR", ROOT / "var"))
    os.environ.setdefault("BRYGGA_STATIC_ROOT", str(var_dir / "bench-static"))  # as the load benchmarks
    import django

    django.setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)  # production settings need the manifest
    from django.conf import settings
    from django.test import Client

    from brygga.accounts.models import User

    manifest = json.loads((args.manifest or Path(settings.VAR_DIR) / "bench1m.json").read_text())
    account = next(u for u in manifest["web_users"] if u["role"] == args.role)
    cases = manifest["case_samples"][str(account["unit_id"])]
    client = Client()
    client.force_login(User.objects.get(username=account["username"]))
    rng = random.Random(1)

    def path() -> str:
        if args.page == "inbox":
            return "/arenden/"
        if args.page == "case":
            return f"/arenden/{rng.choice(cases)}/"
        if args.page == "sip":
            return "/sip/"
        return "/healthz"

    def request() -> Any:
        """One request of the page: a GET, or for ``message`` the POST of a new message to a case of the
        unit (its redirect not followed: the case page is measured as ``case``). Writes to the data set."""
        if args.page == "planning":  # the ward's planning basis, as the load benchmark fills it
            from brygga.cases import rules

            fields = {f"answers.{k}": rng.choice(list(rules.ANSWERS)) for k in rules.PLANNING_QUESTIONS}
            fields |= {f"needs.{k}": rng.choice(["nej", "vet_ej"]) for k in rules.NEEDS}
            fields |= {f"nursing.{k}": "" for k in rules.NURSING_AREAS}
            fields |= {"medications": "Enligt läkemedelslista", "consent": "ja"}
            return client.post(f"/arenden/{rng.choice(cases)}/planning/", fields)
        if args.page != "message":
            return client.get(path())
        return client.post(
            f"/arenden/{rng.choice(cases)}/message/",
            {
                "category": "carecoordination",
                "subject": "Planering inför hemgång",
                "body": f"Profilering: hur ser planeringen ut inför hemgång? {rng.random():.6f}",
            },
        )

    expected = 302 if args.page in ("message", "planning") else 200
    if args.page == "message":
        from bench.users_bench import ensure_consents

        ensure_consents(manifest)  # a message needs a legal basis (R-SEK-3), as in the load benchmark
    for _ in range(3):
        assert request().status_code == expected
    if args.queries:
        from django.db import connection

        ran: list[tuple[float, str, str]] = []

        def where(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            # The innermost frames in brygga's own code (a template's query shows the view that rendered it).
            frames = [
                f"{Path(f.filename).relative_to(ROOT)}:{f.lineno}"
                for f in traceback.extract_stack()
                if f.filename.startswith(str(ROOT / "brygga"))
            ]
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                origin = " < ".join(reversed(frames[-3:])) if args.where else ""
                ran.append(((time.perf_counter() - started) * 1000, sql, origin))

        with connection.execute_wrapper(where):  # BEGIN and COMMIT do not pass here
            request()
        for number, (ms, sql, origin) in enumerate(ran, 1):
            print(f"{number:3} {ms:6.1f} ms  {sql}")
            if origin:
                print(f"            from {origin}")
        return 0
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        response = request()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == expected, response.status_code
    print(
        f"{args.page} as {args.role} ({account['unit']}): p50 {statistics.median(times):.1f} ms, "
        f"min {min(times):.1f} ms over {args.repeat}"
    )
    if args.template_lines:
        print_template_lines(client, path, args.repeat, args.top)
        return 0
    if args.jinja_lines:
        print_jinja_lines(client, path, args.repeat, args.top)
        return 0
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.repeat):
        request()
    profile.disable()
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).sort_stats(args.sort)
    stats.print_stats(args.top)
    if args.callers:
        stats.print_callers(args.callers)
    print(out.getvalue())
    return 0


def print_template_lines(client: Any, path: Any, repeat: int, top: int) -> None:
    """Self time per template line: every node's rendering is timed, and the time of the nodes it renders
    in turn (its children, includes, blocks) is taken off its own, so that the lines add up to the
    template's whole rendering time."""
    from django.template import base

    original = base.Node.render_annotated
    own: dict[str, float] = {}
    stack: list[float] = []  # per open node: the time its children took

    def timed(node: Any, context: Any) -> Any:
        stack.append(0.0)
        started = time.perf_counter()
        try:
            return original(node, context)
        finally:
            spent = time.perf_counter() - started
            children = stack.pop()
            token = getattr(node, "token", None)
            origin = getattr(node, "origin", None)
            name = getattr(origin, "template_name", "?")
            line = token.lineno if token is not None else 0
            kind = type(node).__name__
            key = f"{name}:{line} {kind}"
            own[key] = own.get(key, 0.0) + spent - children
            if stack:
                stack[-1] += spent

    base.Node.render_annotated = timed  # type: ignore[method-assign]
    try:
        for _ in range(repeat):
            client.get(path())
    finally:
        base.Node.render_annotated = original  # type: ignore[method-assign]
    total = sum(own.values())
    print(f"template rendering: {total / repeat * 1000:.2f} ms a request (with the timing's own cost)")
    per_template: dict[str, float] = {}
    for key, seconds in own.items():
        template = key.split(":", 1)[0]
        per_template[template] = per_template.get(template, 0.0) + seconds
    for template, seconds in sorted(per_template.items(), key=lambda kv: -kv[1]):
        print(f"  {seconds / repeat * 1000:7.2f} ms  {template}")
    print()
    for key, seconds in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {seconds / repeat * 1000:7.3f} ms  {key}")


def print_jinja_lines(client: Any, path: Any, repeat: int, top: int) -> None:
    """Self time per line of the Jinja2 bodies (ADR 0705): the compiled templates' code traced line by line
    (``sys.settrace``, only in frames of a ``.jinja.html``), each span between two line events given to the
    template line Jinja's ``debug_info`` maps it to, less the time of the Jinja frames it called (an include,
    a macro). Tracing slows everything; compare the lines with each other, not with the page's time."""
    from brygga.core.jinja import environment

    own: dict[tuple[str, int], float] = {}
    # Per open Jinja frame: [its current code line, when that line started, time of nested Jinja frames].
    open_frames: dict[int, list[Any]] = {}

    def close_line(frame: Any, now: float) -> None:
        state = open_frames[id(frame)]
        key = (frame.f_code.co_filename, state[0])
        own[key] = own.get(key, 0.0) + now - state[1] - state[2]
        state[1], state[2] = now, 0.0

    def local(frame: Any, event: str, _arg: Any) -> Any:
        now = time.perf_counter()
        if event == "line":
            close_line(frame, now)
            open_frames[id(frame)][0] = frame.f_lineno
        elif event == "return":
            close_line(frame, now)
            started = open_frames.pop(id(frame))[3]
            caller = frame.f_back
            while caller is not None and id(caller) not in open_frames:
                caller = caller.f_back
            if caller is not None:
                open_frames[id(caller)][2] += now - started
        return local

    def tracer(frame: Any, event: str, _arg: Any) -> Any:
        if event != "call" or not frame.f_code.co_filename.endswith(".jinja.html"):
            return None
        now = time.perf_counter()
        open_frames[id(frame)] = [frame.f_lineno, now, 0.0, now]
        return local

    sys.settrace(tracer)
    try:
        for _ in range(repeat):
            client.get(path())
    finally:
        sys.settrace(None)
    # Code lines to template lines, per compiled template.
    names = {str(Path(t).resolve()) for t, _l in own}
    mapped: dict[str, float] = {}
    env = environment()
    for name in names:
        relative = str(Path(name).relative_to(Path(env.loader.searchpath[0]).resolve()))  # type: ignore[union-attr]
        debug = env.get_template(relative).debug_info  # [(template line, code line)], by code line
        for (filename, code_line), seconds in own.items():
            if str(Path(filename).resolve()) != name:
                continue
            template_line = 0
            for t_line, c_line in debug:
                if c_line > code_line:
                    break
                template_line = t_line
            key = f"{relative}:{template_line}"
            mapped[key] = mapped.get(key, 0.0) + seconds
    total = sum(mapped.values())
    print(f"Jinja2 bodies (traced): {total / repeat * 1000:.2f} ms a request")
    for key, seconds in sorted(mapped.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {seconds / repeat * 1000:7.3f} ms  {100 * seconds / total:5.1f} %  {key}")


if __name__ == "__main__":
    sys.exit(main())
