"""Form helpers for the key form's numbered rows (party-0, percent-0, …): the submitted value back, and a
refusal's message next to the row's field."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

register = template.Library()


def _get(form: Any, name: str) -> str:
    try:
        return str(form.get(name, "") or "")
    except AttributeError:
        return ""


@register.simple_tag
def keypart_value(form: Any, attr: str, i: int) -> str:
    return _get(form, f"{attr}-{i}")


@register.simple_tag
def keypart_selected(form: Any, i: int, value: str) -> str:
    return "selected" if _get(form, f"party-{i}") == value else ""


@register.simple_tag(takes_context=True)
def keypart_error(context: dict[str, Any], i: int, attr: str) -> str:
    message = (context.get("field_errors") or {}).get(f"{attr}-{i}")
    if not message:
        return ""
    return format_html('<p class="field-error" id="error-key-{}-{}">{}</p>', attr, i, message)


@register.inclusion_tag("economy/_field_errors.html", takes_context=True)
def item_errors(context: dict[str, Any], prefix: str, item: Any) -> dict[str, object]:
    """The refusal messages of the form ``prefix`` for one price item (action "<prefix>-<item id>")."""
    if context.get("action") != f"{prefix}-{item.pk}":
        return {"messages": []}
    return {"messages": [(f, m) for f, m in (context.get("field_errors") or {}).items()]}
