"""The access log's anchor outside the database (ADR 0800).

Seals inside the database prove that sealed entries are unchanged, but someone with database-owner rights
could drop the last seals together with every entry after them, and the chain that is left would verify. So
each seal, once committed, is also written as one line to an append-only file that the database cannot reach
(``BRYGGA_ACCESS_LOG_ANCHOR``: a path on another volume, a WORM share or a file that log shipping sends to the
log reviewers). Each line carries an HMAC with the log key. ``verify_access_log`` compares the database with
the anchor: a seal that the anchor knows and the database lost (or that differs) is reported.

The anchor is a JSON line per seal: sequence, last_id, entry_count, digest, high_id, high_count, sealed_at
and mac."""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import hmac
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings

from brygga.access.models import AccessLogPrune, AccessLogSeal

FIELDS = ("sequence", "last_id", "entry_count", "digest", "high_id", "high_count", "sealed_at")


def anchor_path() -> Path | None:
    configured = settings.BRYGGA_ACCESS_LOG_ANCHOR
    return Path(configured) if configured else None


def _line_mac(record: dict[str, Any]) -> str:
    from brygga.access.services import _log_key

    text = "\x1f".join(str(record[name]) for name in FIELDS)
    return hmac.new(_log_key(), b"anchor\x1f" + text.encode(), hashlib.sha256).hexdigest()


def _record(seal: AccessLogSeal) -> dict[str, Any]:
    record: dict[str, Any] = {
        "sequence": seal.sequence,
        "last_id": seal.last_id,
        "entry_count": seal.entry_count,
        "digest": seal.digest,
        "high_id": seal.high_id,
        "high_count": seal.high_count,
        "sealed_at": seal.sealed_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
    }
    record["mac"] = _line_mac(record)
    return record


def read_anchor(path: Path) -> tuple[dict[int, dict[str, Any]], list[str]]:
    """The anchored seals by sequence, and the problems with the file itself (changed or unreadable lines)."""
    anchored: dict[int, dict[str, Any]] = {}
    problems: list[str] = []
    if not path.exists():
        return anchored, problems
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            valid = hmac.compare_digest(str(record.get("mac", "")), _line_mac(record))
        except (ValueError, KeyError, TypeError):
            valid = False
        if not valid:
            problems.append(f"Ankarets rad {number} har ändrats eller går inte att läsa.")
            continue
        anchored[int(record["sequence"])] = record
    return anchored, problems


def anchor_new_seals() -> int:
    """Append every committed seal the anchor does not have yet (in order; after a crash the next sealing run
    catches up). Returns how many lines were written. A file lock keeps concurrent sealers apart."""
    path = anchor_path()
    if path is None:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            anchored, _problems = read_anchor(path)
            newest = max(anchored, default=0)
            written = 0
            for seal in AccessLogSeal.objects.filter(sequence__gt=newest).order_by("sequence"):
                handle.write(json.dumps(_record(seal), sort_keys=True) + "\n")
                written += 1
            handle.flush()
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return written


def check_anchor(seals: Iterable[AccessLogSeal], boundary: AccessLogPrune | None = None) -> list[str]:
    """Compare the database's seals with the anchor: every anchored seal must be in the database unchanged,
    and every seal in the database must be anchored. Seals at or below the retention boundary (ADR 0409) are
    gone by design; the anchored last dropped seal must have the digest the boundary recorded."""
    path = anchor_path()
    if path is None:
        return []
    anchored, problems = read_anchor(path)
    in_database = {seal.sequence: seal for seal in seals}
    through = boundary.through_sequence if boundary is not None else 0
    for sequence, record in sorted(anchored.items()):
        seal = in_database.get(sequence)
        if boundary is not None and sequence <= through:
            if sequence == through and record.get("digest") != boundary.seal_digest:
                problems.append(f"Gallringsgränsen vid försegling {sequence} skiljer sig från ankaret.")
            continue
        if seal is None:
            problems.append(f"Försegling {sequence} finns i ankaret men saknas i databasen.")
        elif _record(seal) != record:
            problems.append(f"Försegling {sequence} skiljer sig från ankaret.")
    for sequence in sorted(set(in_database) - set(anchored)):
        problems.append(f"Försegling {sequence} saknas i ankaret (kör seal_access_log för att förankra).")
    return problems
