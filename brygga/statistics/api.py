"""Process statistics over the API: the suppressed monthly rows, as on the pages and in the CSV. Counts of
1–4 come back as the string "<5", values that would reveal them as ".."."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Router

from brygga.accounts.context import Actor, AuthedRequest
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError
from brygga.statistics import selectors
from brygga.statistics.models import Level

router = Router(tags=["Processtatistik"])


def _month(value: str | None, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        year, month = value.split("-")
        return dt.date(int(year), int(month), 1)
    except ValueError as exc:
        raise DomainError.single(field, "MANAD", "Ange månaden som ÅÅÅÅ-MM.") from exc


@router.get("/monthly", summary="Processtatistik per månad (små antal undertryckta)")
def monthly(
    request: AuthedRequest,
    level: str = Level.REGION,
    key: str | None = None,
    from_month: str | None = None,
    to_month: str | None = None,
) -> list[dict[str, Any]]:
    actor: Actor = request.actor
    # the levels published as open data for everyone; wards only for the statistics role and GITS
    actor.require(Perm.STATISTICS_VIEW if level == Level.UNIT else Perm.STATISTICS_VIEW_PUBLISHED)
    if level not in Level.values:
        raise DomainError.single(
            "level", "NIVA", "Okänd nivå: region, subregion, municipality, site eller unit."
        )
    rows = selectors.export_rows((level,), _month(from_month, "from_month"), _month(to_month, "to_month"))
    if key:
        rows = [r for r in rows if r["nyckel"] == key]
    return rows
