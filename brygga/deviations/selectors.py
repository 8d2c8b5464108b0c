"""Reads of deviations: what an organisation may see (only those it is party to), deadlines, and counts per
quarter, category and delregion with small counts suppressed (brygga.statistics.suppression)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.accounts.context import Actor
from brygga.core.errors import NotFound
from brygga.deviations.models import Category, Deviation, DeviationState
from brygga.deviations.services import actor_principal
from brygga.organisations.models import Subregion
from brygga.statistics import suppression
from brygga.statistics.suppression import Cell

OPEN_STATES = (DeviationState.REPORTED, DeviationState.RECEIVED, DeviationState.INVESTIGATING)


def visible_to(actor: Actor) -> QuerySet[Deviation]:
    """Deviations the actor's principal reported or received; nothing else (need-to-know, fail closed)."""
    principal = actor_principal(actor)
    if principal is None:
        return Deviation.objects.none()
    return Deviation.objects.filter(
        Q(reporting_organisation=principal) | Q(receiving_organisation=principal)
    ).select_related("reporting_unit", "reporting_organisation", "receiving_organisation", "subregion")


def get_for(actor: Actor, number: str) -> Deviation:
    deviation = visible_to(actor).filter(number=number).first()
    if deviation is None:
        raise NotFound
    return deviation


@dataclass(frozen=True)
class Deadline:
    label: str
    due: dt.date
    met: bool
    overdue: bool


def deadlines(deviation: Deviation, today: dt.date | None = None) -> list[Deadline]:
    """R-AVV-4: received by ``receive_due``, answered by ``answer_due``."""
    today = today or timezone.localdate()
    received = deviation.events.filter(to_state=DeviationState.RECEIVED).values_list("at", flat=True).first()
    rows = []
    for label, due, done in (
        (_("Mottas senast"), deviation.receive_due, received),
        (_("Besvaras senast"), deviation.answer_due, deviation.answered_at),
    ):
        met = done is not None and timezone.localtime(done).date() <= due
        overdue = (done is None and today > due) or (done is not None and not met)
        rows.append(Deadline(label, due, met, overdue))
    return rows


def quarter_bounds(year: int, quarter: int) -> tuple[dt.datetime, dt.datetime]:
    start = dt.date(year, 3 * quarter - 2, 1)
    end = dt.date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    tz = timezone.get_current_timezone()
    return dt.datetime.combine(start, dt.time.min, tz), dt.datetime.combine(end, dt.time.min, tz)


@dataclass
class QuarterCounts:
    """Deviations reported in a quarter. Every number is a suppressed Cell: 1–4 shown as "<5", and in each
    breakdown one more cell hidden ("..") when only one is, so no small count can be recovered."""

    year: int
    quarter: int
    total: Cell
    by_category: list[tuple[str, Cell]] = field(default_factory=list)
    by_subregion: list[tuple[str, Cell]] = field(default_factory=list)
    open_overdue: Cell = field(default_factory=lambda: suppression.count(0))
    raw_total: int = 0  # for tests and the "none at all" text; never shown as a number when 1–4

    def lines(self) -> list[str]:
        """Plain lines for the report page and PDF."""
        if self.raw_total == 0:
            return []
        return (
            [_("Avvikelser i samverkan rapporterade under kvartalet: %s") % self.total]
            + [
                _("Kategori %(label)s: %(n)s") % {"label": label, "n": cell}
                for label, cell in self.by_category
            ]
            + [_("Delregion %(name)s: %(n)s") % {"name": name, "n": cell} for name, cell in self.by_subregion]
            + [_("Obesvarade efter svarstiden, per i dag: %s") % self.open_overdue]
        )


def quarter_counts(year: int, quarter: int, today: dt.date | None = None) -> QuarterCounts:
    since, until = quarter_bounds(year, quarter)
    rows = Deviation.objects.filter(reported_at__gte=since, reported_at__lt=until)
    total = rows.count()
    per_category = {r["category"]: r["n"] for r in rows.order_by().values("category").annotate(n=Count("pk"))}
    per_subregion = {
        r["subregion"]: r["n"] for r in rows.order_by().values("subregion").annotate(n=Count("pk"))
    }
    categories = list(Category)
    subregions = list(Subregion.objects.order_by("name"))
    today = today or timezone.localdate()
    overdue = rows.filter(state__in=OPEN_STATES, answer_due__lt=today).count()
    cat_cells = suppression.partition([per_category.get(c.value, 0) for c in categories], total)
    sub_cells = suppression.partition([per_subregion.get(s.pk, 0) for s in subregions], total)
    return QuarterCounts(
        year=year,
        quarter=quarter,
        total=suppression.count(total),
        by_category=[(str(c.label), cell) for c, cell in zip(categories, cat_cells, strict=True)],
        by_subregion=[(s.name, cell) for s, cell in zip(subregions, sub_cells, strict=True)],
        open_overdue=suppression.part(overdue, total),
        raw_total=total,
    )
