"""The unit picker, built in Python from the cached directory (issue 17 item 2, ADR 0703).

A picker lists every receiving unit of the region (about 200), and the case page has two of them: rendered
through the template loop with ``Unit.picker_label`` (one ``get_kind_display`` per option, a lazy translation
each) they were a sixth of the page's server time. Included from the case page's Jinja2 body as a Django
template (``django_include``), each picker then copied the body's whole context into a Django context and
escaped its 200 texts through Django's lazy-aware ``escape``: the largest line of the body (issue 17). Both
engines now call ``unit_picker`` (``{% unit_picker %}`` in ``web/_unit_picker.html``, ``unit_picker(…)`` in
a Jinja2 body). The markup is byte for byte what the template wrote (tests/test_page_content.py compares the
rendered pages with snapshots)."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

import jinja2
from django import template
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from brygga.organisations.directory import DirectoryUnit
from brygga.organisations.models import Unit, unit_label

register = template.Library()


def _text(value: Any) -> str:
    """A value as ``{{ value }}`` writes it: "" for nothing (or an undefined Jinja2 value), escaped unless
    already safe."""
    if value is None or value == "" or isinstance(value, jinja2.Undefined):
        return ""
    return str(conditional_escape(value))


@register.simple_tag
def unit_options(units: Iterable[DirectoryUnit], value: str = "hsa_id", selected: object = "") -> SafeString:
    """``<option>`` elements of the units: the value is the HSA-id (or the primary key when ``value`` is
    "id"), the text ``Unit.picker_label``; the option whose value equals ``selected`` is selected."""
    kinds = {code: str(label) for code, label in Unit.Kind.choices}  # translated once, not once per unit
    chosen = "" if selected is None or isinstance(selected, jinja2.Undefined) else str(selected)
    by_id = value == "id"
    escape = html.escape  # what Django's escape does to a str, without its lazy-aware wrapper (400 a page)
    parts = []
    for unit in units:
        option = str(unit.pk) if by_id else unit.hsa_id
        mark = " selected" if option == chosen and (by_id or chosen) else ""
        text = unit_label(unit.name, unit.municipality_name, kinds.get(unit.kind, unit.kind), unit.hsa_id)
        parts.append(f'<option value="{escape(option)}"{mark}>{escape(text)}</option>')
    return mark_safe("".join(parts))  # noqa: S308 — every value above is escaped


@register.simple_tag
def unit_picker(
    picker_id: Any,
    picker_name: Any,
    picker_units: Iterable[DirectoryUnit],
    picker_value: Any = "",
    picker_kinds: Any = "",
    picker_selected: Any = "",
    picker_invalid: Any = "",
) -> SafeString:
    """A unit picker: a plain select (works without JavaScript), enhanced into an accessible combobox by
    static/brygga/combobox.js, which searches ``web:unit_search`` and offers only these options (ADR 0906).
    ``picker_value`` is "hsa_id" (the default) or "id"; ``picker_kinds`` the comma-separated kind codes for
    the search; ``picker_invalid`` the ``invalid`` tag's attributes after a refused submission."""
    ident = _text(picker_id)
    value = _text(picker_value) or "hsa_id"
    kinds = _text(picker_kinds)
    search = html.escape(reverse("web:unit_search")) + (f"?kinds={kinds}" if kinds else "")
    # Literal calls, so that makemessages finds the texts here as it found them in the template.
    texts = [
        html.escape(text)
        for text in (
            _("{n} enheter. Pil upp och ner flyttar, Enter väljer."),
            _("Ingen enhet matchar."),
            _("Sökningen gick inte att göra. Välj i listan eller försök igen."),
            _("Vald: {unit}"),
            _("— välj enhet —"),
        )
    ]
    options = unit_options(picker_units or (), value, picker_selected)
    return mark_safe(  # noqa: S308 — every value above is escaped
        f'<select id="{ident}" name="{_text(picker_name)}" aria-describedby="{ident}-hint"'
        f' data-combobox="{search}" data-combobox-value="{value}" data-text-results="{texts[0]}"'
        f' data-text-none="{texts[1]}" data-text-failed="{texts[2]}" data-text-chosen="{texts[3]}"'
        f" {_text(picker_invalid)}>\n"
        f'  <option value="">{texts[4]}</option>\n  {options}\n</select>\n'
    )


JINJA_GLOBALS = {"unit_picker": unit_picker}
