"""The start page's counts per unit of the unit inbox."""

from __future__ import annotations

from typing import Any

from django import template

from brygga.inbox.selectors import inbox_summaries

register = template.Library()


@register.simple_tag(takes_context=True)
def unit_inboxes(context: dict[str, Any]) -> list[dict[str, Any]]:
    """Counts per unit for the start page (no personal data, so nothing to log)."""
    actor = context.get("actor")
    if actor is None or getattr(actor, "user", None) is None or not actor.user.is_authenticated:
        return []
    return inbox_summaries(actor)
