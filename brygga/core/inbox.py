"""The unit inbox in the database (ADR 0105): every kind that appears in it (discharge cases, SIPs, care
requests) contributes one queryset with the same five annotated columns; their UNION ALL is ordered and
sliced in the database, so an overdue item is never lost behind newer ones. The tier is the state as a
number: 0 overdue or escalated, 1 due soon, 2 new or unacknowledged, 3 the rest. Kept here, below every app,
because the cases and SIP apps build their sources with it and the inbox app combines them (ADR 0009)."""

from __future__ import annotations

from typing import Any

from django.db.models import Case as DbCase
from django.db.models import CharField, DateTimeField, F, IntegerField, QuerySet, Value, When

INBOX_COLUMNS = ("ib_kind", "ib_row", "ib_tier", "ib_due", "ib_last")
INBOX_ORDER = (
    "ib_tier",
    F("ib_due").asc(nulls_last=True),
    F("ib_last").desc(nulls_last=True),
    "ib_kind",
    F("ib_row").desc(),
)
# INBOX_ORDER as SQL, for a statement that wraps the compiled UNION (brygga.inbox.selectors, ADR 0704): the
# ORM cannot annotate a UNION. Keep the two in step; tests/test_inbox.py compares the orders they give.
INBOX_ORDER_SQL = "ib_tier ASC, ib_due ASC NULLS LAST, ib_last DESC NULLS LAST, ib_kind ASC, ib_row DESC"


def make_tier(*whens: When) -> DbCase:
    """The tier column from ``whens``; everything else is 3."""
    return DbCase(*whens, default=Value(3), output_field=IntegerField())


def columns(
    qs: QuerySet[Any], kind: str, tier: DbCase, due: Any, last: Any, only_urgent: bool
) -> QuerySet[Any]:
    """``qs`` as inbox rows of ``kind``: the five columns, ``only_urgent`` keeping tiers 0 and 1."""
    qs = qs.annotate(
        ib_kind=Value(kind, output_field=CharField()),
        ib_row=F("pk"),
        ib_tier=tier,
        ib_due=due,
        ib_last=last,
    )
    if only_urgent:
        qs = qs.filter(ib_tier__lte=1)
    return qs.order_by().values(*INBOX_COLUMNS)


def combine(parts: list[QuerySet[Any]], empty: QuerySet[Any]) -> QuerySet[Any]:
    """One ordered queryset of inbox columns from the kinds' sources (UNION ALL when more than one)."""
    if not parts:
        # A role that sees no kind (forum, statistics, log review…): the same columns over no rows of
        # ``empty``, so the callers' ordering and paging work unchanged.
        none = Value(None, output_field=DateTimeField())
        return columns(empty.none(), "", make_tier(), none, none, only_urgent=False)
    qs = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return qs.order_by(*INBOX_ORDER)
