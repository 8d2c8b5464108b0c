"""What is kept how long, and why: one rule per kind of record with its legal source (ADR 0405).

Each kind is registered with ``register_kind`` and brings two functions: ``candidates(cutoff)`` yields the
records whose retention period ran from a date before ``cutoff`` and that no newer record still needs, and
``delete(object_id)`` removes one record with its files and returns how many files it deleted. The years and
the legal source of each rule can be changed per installation with ``BRYGGA_RETENTION_RULES`` (JSON:
``{"attachment": {"years": 12, "legal_source": "…"}}``), e.g. after the authority's information management
plan (informationshanteringsplan) says longer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise


@dataclass(frozen=True)
class Candidate:
    kind: str
    object_id: str
    person_id: int | None
    record_date: dt.datetime  # the retention period runs from here


@dataclass(frozen=True)
class Kind:
    key: str
    label: str | Promise
    years: int
    legal_source: str
    candidates: Callable[[dt.datetime], Iterable[Candidate]]
    delete: Callable[[str], int]


@dataclass(frozen=True)
class Rule:
    kind: str
    label: str | Promise
    years: int
    legal_source: str


_KINDS: dict[str, Kind] = {}


def register_kind(kind: Kind) -> None:
    _KINDS[kind.key] = kind


def kinds() -> list[Kind]:
    return list(_KINDS.values())


def rule_for(kind: Kind) -> Rule:
    override = (settings.BRYGGA_RETENTION_RULES or {}).get(kind.key, {})
    years = override.get("years", kind.years)
    if not isinstance(years, int) or years < 1:
        raise ImproperlyConfigured(f"BRYGGA_RETENTION_RULES[{kind.key!r}].years must be a whole number ≥ 1")
    return Rule(kind.key, kind.label, years, str(override.get("legal_source", kind.legal_source)))


def rules() -> list[Rule]:
    return [rule_for(kind) for kind in kinds()]


def years_before(moment: dt.datetime, years: int) -> dt.datetime:
    """The same moment ``years`` calendar years earlier (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)
