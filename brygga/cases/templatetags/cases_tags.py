"""Small helpers for the case templates: a field's error next to the field, and deadline badges."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag(takes_context=True)
def field_error(context: Any, action: str, field: str) -> str:
    """The Swedish message for ``field`` if the last submitted form was ``action`` and it failed there."""
    if context.get("action") != action:
        return ""
    message = (context.get("field_errors") or {}).get(field)
    if not message:
        return ""
    return format_html('<p class="field-error" id="error-{}-{}">{}</p>', action, field, message)


@register.simple_tag(takes_context=True)
def invalid(context: Any, action: str, field: str) -> str:
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


# The same helpers for the Jinja2 bodies (brygga.core.jinja, ADR 0705), under the same names; the two form
# helpers are bound to the render's submitted action and errors once (most renders have none).
def _form_helpers(context: Any) -> dict[str, Any]:
    action = context.get("action")
    errors = context.get("field_errors") or {}
    if not action or not errors:
        return {"field_error": _nothing, "invalid": _nothing}
    bound = {"action": action, "field_errors": errors}
    return {
        "field_error": lambda a, f: field_error(bound, a, f),
        "invalid": lambda a, f: invalid(bound, a, f),
    }


def _nothing(action: str, field: str) -> str:
    return ""


JINJA_GLOBALS = {"deadline_badge": deadline_badge}
JINJA_FILTERS = {"posted": posted, "get_item": get_item}
JINJA_CONTEXT = _form_helpers
