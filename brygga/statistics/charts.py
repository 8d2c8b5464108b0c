"""Server-rendered inline SVG charts (ADR 0210). Each chart is an image with a title and a text summary
(role="img", aria-labelledby); the page shows the same numbers in a table next to it, which is the accessible
alternative. Hidden values ("<5", "..") are drawn as a mark, never as a bar."""

from __future__ import annotations

import itertools
from decimal import Decimal
from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from brygga.statistics.suppression import Cell

BAR = "#1d5e8c"
GRID = "#c8c8c8"
TEXT = "#1a1a1a"
MUTED = "#595959"
_ids = itertools.count(1)


def _num(value: int | Decimal | None) -> float:
    return float(value) if value is not None else 0.0


def _scale_max(cells: list[Cell], unit: str) -> float:
    if unit == "%":
        return 100.0
    top = max((_num(c.value) for c in cells), default=0.0)
    if top <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(top))) - 1)
    return float(((int(top) // magnitude) + 1) * magnitude)


def _fmt_unit(cell: Cell, unit: str) -> str:
    if cell.value is None:
        return cell.text
    return f"{cell.text} %" if unit == "%" else cell.text


def summary(items: list[tuple[str, Cell]], unit: str, trend: bool) -> str:
    """A sentence that says what the chart shows, for screen readers and for everyone."""
    shown = [(label, c) for label, c in items if c.value is not None]
    hidden = sum(1 for _, c in items if c.suppressed)
    parts = []
    if not shown:
        parts.append(_("Inga värden att visa för perioden."))
    elif trend:
        (first_label, first), (last_label, last) = shown[0], shown[-1]
        parts.append(
            _("Från %(a)s (%(av)s) till %(b)s (%(bv)s).")
            % {"a": first_label, "av": _fmt_unit(first, unit), "b": last_label, "bv": _fmt_unit(last, unit)}
        )
    else:
        high = max(shown, key=lambda x: _num(x[1].value))
        low = min(shown, key=lambda x: _num(x[1].value))
        parts.append(
            _("Högst: %(h)s (%(hv)s). Lägst: %(l)s (%(lv)s).")
            % {"h": high[0], "hv": _fmt_unit(high[1], unit), "l": low[0], "lv": _fmt_unit(low[1], unit)}
        )
    if hidden:
        parts.append(_("%(n)s värden redovisas inte (färre än 5).") % {"n": hidden})
    return " ".join(parts)


def _frame(width: int, height: int, title: str, desc: str, body: list[str]) -> SafeString:
    n = next(_ids)
    return mark_safe(  # noqa: S308 — every text in body and here is escaped
        f'<svg class="chart" role="img" aria-labelledby="chart-t{n} chart-d{n}" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart-t{n}">{escape(title)}</title><desc id="chart-d{n}">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def column_chart(title: str, points: list[tuple[str, Cell]], unit: str) -> SafeString:
    """Months along the x axis, one column each (trends)."""
    left, right, top, bottom = 44, 8, 12, 34
    width = max(320, left + right + 40 * len(points))
    height = 200
    plot_h = height - top - bottom
    step = (width - left - right) / max(len(points), 1)
    top_value = _scale_max([c for _, c in points], unit)
    body = []
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        label = f"{top_value * fraction:g}" + (" %" if unit == "%" else "")
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="{MUTED}">'
            f"{escape(label)}</text>"
        )
    for i, (label, cell) in enumerate(points):
        x = left + i * step + step * 0.15
        w = step * 0.7
        cx = x + w / 2
        if cell.value is not None:
            h = plot_h * _num(cell.value) / top_value
            body.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{w:.1f}" height="{h:.1f}" '
                f'fill="{BAR}"/>'
            )
        else:
            body.append(
                f'<text x="{cx:.1f}" y="{top + plot_h - 4}" text-anchor="middle" font-size="11" '
                f'fill="{MUTED}">{escape(cell.text)}</text>'
            )
        body.append(
            f'<text x="{cx:.1f}" y="{height - bottom + 14}" text-anchor="middle" font-size="10" '
            f'fill="{TEXT}">{escape(label)}</text>'
        )
    return _frame(width, height, title, summary(points, unit, trend=True), body)


def bar_chart(title: str, items: list[tuple[str, Cell]], unit: str) -> SafeString:
    """One horizontal bar per item (comparisons between areas, distributions)."""
    label_w, value_w, row_h, top = 210, 64, 22, 6
    width = 640
    height = top * 2 + row_h * max(len(items), 1)
    plot_w = width - label_w - value_w
    top_value = _scale_max([c for _, c in items], unit)
    body = []
    for i, (label, cell) in enumerate(items):
        y = top + i * row_h
        short = label if len(label) <= 32 else label[:31] + "…"
        body.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="12" fill="{TEXT}">'
            f"{escape(short)}</text>"
        )
        w = plot_w * _num(cell.value) / top_value if cell.value is not None else 0
        if w:
            body.append(
                f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" fill="{BAR}"/>'
            )
        colour = MUTED if cell.value is None else TEXT
        body.append(
            f'<text x="{label_w + w + 4:.1f}" y="{y + 15}" font-size="12" fill="{colour}">'
            f"{escape(_fmt_unit(cell, unit))}</text>"
        )
    return _frame(width, height, title, summary(items, unit, trend=False), body)
