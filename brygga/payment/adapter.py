"""From the cases app's immutable events to the engine's StayFacts (docs/payment.md, "From case events to
StayFacts"). The engine stays pure; this module is the one place that reads cases for payment.

A month is settled from the cases ``brygga.cases.facts.payment_cases`` selects for the month and the longest
settlement window of the rule versions in force (R-VG-BET-4: a 3-month window needs the two months before),
turned into StayFacts by the bulk mapping in chunks: a bounded number of queries per chunk, never one per
case, and at most one municipality's facts in memory at a time (``by_municipality``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from itertools import groupby

from brygga.cases.facts import iter_stay_facts_fields, payment_cases
from brygga.payment.engine import LOCAL_TZ, MonthSpan, RuleParams
from brygga.payment.facts import StayFacts

CHUNK_SIZE = 2000


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=LOCAL_TZ)


def month_bounds(year: int, month: int, rules: Sequence[RuleParams]) -> tuple[dt.datetime, dt.datetime]:
    """[start of the settlement window, end of the month) in Swedish local time. The window is the longest
    one any rule version has (1 month, or 3 with a 3-month window)."""
    span = MonthSpan.of(year, month)
    window = max((r.window_months for r in rules), default=1)
    start = span.back(max(window, 1) - 1).first
    return _local_midnight(start), _local_midnight(span.last + dt.timedelta(days=1))


def case_facts(
    year: int,
    month: int,
    rules: Sequence[RuleParams],
    municipality_ids: Iterable[int] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[StayFacts]:
    """StayFacts of every case the month may need, ordered by municipality and case, streamed."""
    start, end = month_bounds(year, month, rules)
    cases = payment_cases(start, end, municipality_ids)
    for fields in iter_stay_facts_fields(cases, chunk_size=chunk_size):
        yield StayFacts.from_dict(fields)


def by_municipality(
    year: int,
    month: int,
    rules: Sequence[RuleParams],
    municipality_ids: Iterable[int] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[tuple[str, list[StayFacts]]]:
    """(municipality code, its StayFacts) one municipality at a time; municipalities without cases are not
    yielded."""
    facts = case_facts(year, month, rules, municipality_ids, chunk_size)
    for code, group in groupby(facts, key=lambda f: f.municipality_code):
        yield code, list(group)
