"""The one way a refused form is shown (ADR 0007): the error summary links to each field's message, a field
is marked ``aria-invalid`` and described by its message, and everything typed comes back — text, radios,
checkboxes and multiple selects alike. Load with ``{% load forms %}``."""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.utils.html import format_html

register = template.Library()

# A numbered rule a user can look up in the routines and docs (R-INS-2, R-SEK-3, DOK-BIL-1 …). Internal
# codes such as PERSON, DATUM-FORMAT or TEXT-LANGD mean nothing to a nurse and are not shown on pages (the
# API still names them).
_LOOKUP_RULE = re.compile(r"^(R-[A-Z0-9-]+|[A-Z]+(-[A-Z]+)*-\d+[a-z]?)$")


@register.filter
def lookup_rule(rule: str) -> str:
    """The rule if it is one the user can look up, else the empty string."""
    return rule if _LOOKUP_RULE.match(rule or "") else ""


def _anchor(action: str, field: str) -> str:
    return f"error-{action}-{field}" if action else f"error-{field}"


@register.simple_tag(takes_context=True)
def error_href(context: dict[str, Any], field: str) -> str:
    """Where the error summary's link for ``field`` leads: on a page of several forms the message beside the
    field of the form that was sent (``error-<action>-<field>``), on a single-form page the field itself
    (``field-<field>``, the id every single form gives its inputs)."""
    action = context.get("action") or ""
    return f"#error-{action}-{field}" if action else f"#field-{field}"


def _field_errors(context: dict[str, Any]) -> dict[str, str]:
    found = context.get("field_errors")
    if found:
        return dict(found)
    return {p.field: str(p.message) for p in context.get("errors") or []}


@register.simple_tag(takes_context=True)
def field_message(context: dict[str, Any], field: str, action: str = "") -> str:
    """The message beside a field of a single-form page (or of ``action`` on a many-form page)."""
    if action and context.get("action") != action:
        return ""
    message = _field_errors(context).get(field)
    if not message:
        return ""
    return format_html('<p class="field-error" id="{}">{}</p>', _anchor(action, field), message)


@register.simple_tag(takes_context=True)
def field_invalid(context: dict[str, Any], field: str, action: str = "") -> str:
    """``aria-invalid`` and ``aria-describedby`` for a field that was refused."""
    if action and context.get("action") != action:
        return ""
    if field not in _field_errors(context):
        return ""
    return format_html('aria-invalid="true" aria-describedby="{}"', _anchor(action, field))


def _values(form: Any, name: str) -> list[str]:
    if form is None:
        return []
    getlist = getattr(form, "getlist", None)
    if getlist is not None:
        return [str(v) for v in getlist(name)]
    value = form.get(name) if hasattr(form, "get") else None
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        return [str(v) for v in value]
    return [str(value)]


@register.simple_tag
def checked(form: Any, name: str, value: Any) -> str:
    """``checked`` when the submitted form had ``value`` for ``name`` (radios and checkboxes)."""
    return "checked" if str(value) in _values(form, name) else ""


@register.simple_tag
def selected(form: Any, name: str, value: Any) -> str:
    """``selected`` when the submitted form had ``value`` for ``name`` (selects, also multiple)."""
    return "selected" if str(value) in _values(form, name) else ""
