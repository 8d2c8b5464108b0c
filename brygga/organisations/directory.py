"""The unit directory as the pickers need it, read once a minute per process instead of once a page.

Every case page of a ward offers about 200 receiving units in two pickers, and every SIP page and consent
form its own list: read through the ORM each time, those units and their municipalities were some 450 model
instances and a tenth of the case page's server time (issue 17, docs/benchmarks.md). The directory changes
a few times a day (the HSA import, an administrator), so each process keeps the active units as plain values
for ``DIRECTORY_CACHE_SECONDS`` (60 s by default, 0 switches the cache off) and forgets them at once when a
unit or municipality is saved or deleted in the same process (signals wired in OrganisationsConfig.ready).

What a stale list can cost is bounded: another process may offer a unit renamed or closed in the last minute,
and the services refuse a unit that is not active (OKAND-ENHET) whatever a form offered. ADR 0703."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from brygga.organisations.models import Municipality, Site, Unit


@dataclass(frozen=True, slots=True)
class DirectoryUnit:
    """An active unit as a picker shows it (no model instance, nothing lazy)."""

    pk: int
    hsa_id: str
    name: str
    kind: str
    municipality_name: str


_lock = threading.Lock()
_cached: tuple[float, tuple[DirectoryUnit, ...]] | None = None


def active_units() -> tuple[DirectoryUnit, ...]:
    """Every active unit, ordered by name as the database orders it (one query at most once a minute)."""
    global _cached
    ttl = float(getattr(settings, "DIRECTORY_CACHE_SECONDS", 60))
    now = time.monotonic()
    cached = _cached
    if cached is not None and ttl > 0 and now - cached[0] < ttl:
        return cached[1]
    rows = Unit.objects.filter(is_active=True).order_by("name", "pk")
    units = tuple(
        DirectoryUnit(pk, hsa_id, name, kind, municipality_name)
        for pk, hsa_id, name, kind, municipality_name in rows.values_list(
            "pk", "hsa_id", "name", "kind", "municipality__name"
        )
    )
    with _lock:
        _cached = (now, units)
    return units


def units_of_kinds(kinds: Collection[str], exclude: Collection[int] = ()) -> list[DirectoryUnit]:
    """The active units of these kinds, except the given primary keys, in the directory's order."""
    return [u for u in active_units() if u.kind in kinds and u.pk not in exclude]


def units_except_kinds(kinds: Collection[str], exclude: Collection[int] = ()) -> list[DirectoryUnit]:
    """The active units of every other kind, except the given primary keys, in the directory's order."""
    return [u for u in active_units() if u.kind not in kinds and u.pk not in exclude]


_references: tuple[float, dict[int, Municipality], dict[int, Site]] | None = None


def _reference_rows() -> tuple[dict[int, Municipality], dict[int, Site]]:
    """Every municipality and hospital by id (49 and a few dozen rows), on the unit list's terms."""
    global _references
    ttl = float(getattr(settings, "DIRECTORY_CACHE_SECONDS", 60))
    now = time.monotonic()
    cached = _references
    if cached is not None and ttl > 0 and now - cached[0] < ttl:
        return cached[1], cached[2]
    municipalities = Municipality.objects.in_bulk()
    sites = Site.objects.in_bulk()
    with _lock:
        _references = (now, municipalities, sites)
    return municipalities, sites


def municipalities_by_id(ids: Iterable[int]) -> dict[int, Municipality]:
    """These municipalities, each a copy of its cached row (a caller may attach it to its own objects); an id
    the cache does not know yet (added in another process within the TTL) is read from the database."""
    return _by_id(_reference_rows()[0], Municipality, ids)


def sites_by_id(ids: Iterable[int]) -> dict[int, Site]:
    """These hospitals, as ``municipalities_by_id``."""
    return _by_id(_reference_rows()[1], Site, ids)


def _by_id(known: dict[int, Any], model: Any, ids: Iterable[int]) -> dict[int, Any]:
    wanted = set(ids)
    found = {pk: copy.copy(known[pk]) for pk in wanted if pk in known}
    missing = wanted - found.keys()
    if missing:
        found.update(model.objects.in_bulk(missing))
    return found


def forget(**_: Any) -> None:
    """Drop the cached directory (a unit, municipality or hospital changed in this process; tests between
    cases)."""
    global _cached, _references
    with _lock:
        _cached = None
        _references = None
