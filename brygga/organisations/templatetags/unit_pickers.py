"""The unit picker's options, built in Python from the cached directory (issue 17 item 2, ADR 0703).

A picker lists every receiving unit of the region (about 200), and the case page has two of them: rendered
through the template loop with ``Unit.picker_label`` (one ``get_kind_display`` per option, a lazy translation
each) they were a sixth of the page's server time. The markup is byte for byte what the loop wrote
(tests/test_page_content.py compares the rendered pages with snapshots)."""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from brygga.organisations.directory import DirectoryUnit
from brygga.organisations.models import Unit, unit_label

register = template.Library()


@register.simple_tag
def unit_options(units: Iterable[DirectoryUnit], value: str = "hsa_id", selected: object = "") -> SafeString:
    """``<option>`` elements of the units: the value is the HSA-id (or the primary key when ``value`` is
    "id"), the text ``Unit.picker_label``; the option whose value equals ``selected`` is selected."""
    kinds = {code: str(label) for code, label in Unit.Kind.choices}  # translated once, not once per unit
    chosen = "" if selected is None else str(selected)
    by_id = value == "id"
    parts = []
    for unit in units:
        option = str(unit.pk) if by_id else unit.hsa_id
        mark = " selected" if option == chosen and (by_id or chosen) else ""
        text = unit_label(unit.name, unit.municipality_name, kinds.get(unit.kind, unit.kind), unit.hsa_id)
        parts.append(f'<option value="{escape(option)}"{mark}>{escape(text)}</option>')
    return mark_safe("".join(parts))  # noqa: S308 — every value above is escaped
