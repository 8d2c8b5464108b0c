"""Money arithmetic for the economy: amounts are Decimal kronor with two places (öre); splits are computed in
whole öre with the largest-remainder method so the parts always sum exactly to the whole."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

ORE = Decimal("0.01")


def to_ore(amount: Decimal | int | str) -> int:
    """Kronor → whole öre. Refuses fractions of an öre rather than silently rounding them away."""
    value = Decimal(amount)
    ore = value * 100
    if ore != ore.to_integral_value():
        raise ValueError(f"{amount} has fractions of an öre")
    return int(ore)


def from_ore(ore: int) -> Decimal:
    return (Decimal(ore) / 100).quantize(ORE)


def kronor(amount: Decimal | int | str) -> Decimal:
    return Decimal(amount).quantize(ORE, rounding=ROUND_HALF_UP)


def largest_remainder(total_ore: int, weights: Sequence[tuple[K, Decimal | int | Fraction]]) -> dict[K, int]:
    """Split ``total_ore`` in proportion to ``weights`` (exact rational arithmetic). Every part is first
    rounded down; the öre left over go one each to the parts with the largest remainders, ties to the
    earlier part in ``weights``. The result always sums to ``total_ore``. Parts with zero weight get zero."""
    positive = [(key, Fraction(w)) for key, w in weights]
    weight_sum = sum((w for _, w in positive), Fraction(0))
    if not positive:
        return {}
    if weight_sum <= 0:
        raise ValueError("weights must sum to more than zero")
    exact = [(key, total_ore * w / weight_sum) for key, w in positive]
    floors = {key: int(share.numerator // share.denominator) for key, share in exact}
    left = total_ore - sum(floors.values())
    order = sorted(
        range(len(exact)), key=lambda i: (-(exact[i][1] - floors[exact[i][0]]), i)
    )  # largest remainder first, then list order
    for i in order[:left]:
        floors[exact[i][0]] += 1
    return floors


def spread_over_months(total_ore: int, months: int = 12) -> list[int]:
    """Equal monthly parts of a yearly amount, largest remainder (earlier months take the extra öre)."""
    parts = largest_remainder(total_ore, [(m, 1) for m in range(months)])
    return [parts[m] for m in range(months)]
