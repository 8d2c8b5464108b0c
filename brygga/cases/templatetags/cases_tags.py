"""Small helpers for the case templates: a field's error next to the field, and deadline badges."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag(takes_context=True)
def field_error(context: dict[str, Any], action: str, field: str) -> str:
    """The Swedish message for ``field`` if the last submitted form was ``action`` and it failed there."""
    if context.get("action") != action:
        return ""
    message = (context.get("field_errors") or {}).get(field)
    if not message:
        return ""
    return format_html('<p class="field-error" id="error-{}-{}">{}</p>', action, field, message)


@register.simple_tag(takes_context=True)
def invalid(context: dict[str, Any], action: str, field: str) -> str:
    if context.get("action") == action and field in (context.get("field_errors") or {}):
        return format_html('aria-invalid="true" aria-describedby="error-{}-{}"', action, field)
    return ""


@register.filter
def posted(form: Any, name: str) -> str:
    """The value the user just submitted, so a refused form keeps its input."""
    try:
        return form.get(name, "")
    except AttributeError:
        return ""


STATE_LABELS = {"overdue": "Försenad", "due_soon": "Snart", "pending": "Pågår", "done": "Klar"}
STATE_CLASSES = {"overdue": "overdue", "due_soon": "soon", "pending": "", "done": "ok"}


@register.simple_tag
def deadline_badge(state: str) -> str:
    return format_html(
        '<span class="badge {}">{}</span>', STATE_CLASSES.get(state, ""), _(STATE_LABELS.get(state, state))
    )


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    try:
        return mapping.get(key, key)
    except AttributeError:
        return key
