"""Deviation API: the suppressed quarterly counts for oversight (DEVIATION_OVERVIEW). Counts of 1–4 come back
as "<5", values that would reveal them as ".."; no single deviation is exposed here."""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import Router, Schema

from brygga.accounts.context import AuthedRequest
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError
from brygga.deviations import selectors

router = Router(tags=["Avvikelser i samverkan"])


class CountOut(Schema):
    label: str
    count: int | str | None


class QuarterCountsOut(Schema):
    year: int
    quarter: int
    total: int | str | None
    unanswered_after_deadline: int | str | None
    by_category: list[CountOut]
    by_subregion: list[CountOut]


@router.get(
    "/counts", response=QuarterCountsOut, summary="Antal per kvartal, kategori och delregion (skyddade)"
)
def counts(request: AuthedRequest, year: int, quarter: int) -> dict[str, object]:
    request.actor.require(Perm.DEVIATION_OVERVIEW)
    if quarter not in (1, 2, 3, 4):
        raise DomainError.single("quarter", "R-AVV-FIELD", _("Kvartalet ska vara 1–4."))
    c = selectors.quarter_counts(year, quarter)
    return {
        "year": year,
        "quarter": quarter,
        "total": c.total.export,
        "unanswered_after_deadline": c.open_overdue.export,
        "by_category": [{"label": label, "count": cell.export} for label, cell in c.by_category],
        "by_subregion": [{"label": name, "count": cell.export} for name, cell in c.by_subregion],
    }
