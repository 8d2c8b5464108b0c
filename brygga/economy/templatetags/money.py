"""Swedish money formatting for templates: 1234567.5 → "1 234 567,50"."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()

NBSP = "\u00a0"


@register.filter
def kr(value: Decimal | int | None) -> str:
    if value is None or value == "":
        return "—"
    amount = Decimal(value).quantize(Decimal("0.01"))
    whole, _, ore = f"{abs(amount):.2f}".partition(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    sign = "−" if amount < 0 else ""
    return f"{sign}{NBSP.join(groups)},{ore}"
