"""Small-count suppression, applied wherever a number leaves the summary tables (pages, CSV, open data, API).

Rules (ADR 0211):
- a count of 1–4 is shown as "<5"; 0 is shown;
- a part of a shown whole (e.g. on-time notices of all due notices) is also hidden ("..") when the rest of
  the whole is 1–4, since whole − part would give the small count back;
- in a partition (day buckets, meeting forms) where exactly one cell is hidden, the smallest other non-zero
  cell is hidden too, so the hidden one cannot be recovered by subtraction;
- a share is hidden when its denominator is under 5 or its numerator or remainder is 1–4;
- a mean or median is hidden when it rests on fewer than 5 cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

MIN_COUNT = 5
SMALL = "<5"
HIDDEN = ".."
NONE = "–"


@dataclass(frozen=True)
class Cell:
    """One presented number: ``value`` is None when it is hidden or undefined; ``text`` is what is shown."""

    value: int | Decimal | None
    text: str
    suppressed: bool = False

    def __str__(self) -> str:
        return self.text

    @property
    def export(self) -> int | str | None:
        """The value for CSV and JSON: the number, the suppression mark, or None when undefined."""
        if self.suppressed:
            return self.text
        if self.value is None:
            return None
        return self.value if isinstance(self.value, int) else str(self.value)


def _small(n: int) -> bool:
    return 0 < n < MIN_COUNT


def _fmt(value: Decimal) -> str:
    return f"{value}".replace(".", ",")


def count(n: int) -> Cell:
    if _small(n):
        return Cell(None, SMALL, True)
    return Cell(n, str(n))


def part(n: int, whole: int) -> Cell:
    if _small(n):
        return Cell(None, SMALL, True)
    if _small(whole - n):
        return Cell(None, HIDDEN, True)
    return Cell(n, str(n))


def partition(parts: list[int], whole: int) -> list[Cell]:
    cells = [part(n, whole) for n in parts]
    hidden = [i for i, c in enumerate(cells) if c.suppressed]
    if len(hidden) == 1:
        others = [(n, i) for i, n in enumerate(parts) if i not in hidden and n > 0]
        if others:
            _, i = min(others)
            cells[i] = Cell(None, HIDDEN, True)
    return cells


def share(numerator: int, denominator: int) -> Cell:
    """A percentage with one decimal."""
    if denominator == 0:
        return Cell(None, NONE)
    if denominator < MIN_COUNT or _small(numerator) or _small(denominator - numerator):
        return Cell(None, HIDDEN, True)
    value = (Decimal(100 * numerator) / denominator).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return Cell(value, _fmt(value))


def mean(total: int, n: int) -> Cell:
    if n == 0:
        return Cell(None, NONE)
    if n < MIN_COUNT:
        return Cell(None, HIDDEN, True)
    value = (Decimal(total) / n).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return Cell(value, _fmt(value))


def median(value: Decimal | None, n: int) -> Cell:
    if n == 0 or value is None:
        return Cell(None, NONE)
    if n < MIN_COUNT:
        return Cell(None, HIDDEN, True)
    return Cell(value, _fmt(value))


def sum_over(total: int, n: int) -> Cell:
    """A sum (e.g. days moved) over n events: hidden when n is 1–4, since it would describe those few."""
    if _small(n):
        return Cell(None, HIDDEN, True)
    return Cell(total, str(total))
