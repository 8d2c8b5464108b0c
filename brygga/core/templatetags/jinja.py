"""``{% jinja_body "….jinja.html" name=value … %}``: a page's body rendered by Jinja2 with the Django context
it stands in (``brygga.core.jinja``, ADR 0705). Load with ``{% load jinja %}``."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from brygga.core import jinja

register = template.Library()


@register.simple_tag(takes_context=True)
def jinja_body(context: template.Context, template_name: str, **values: object) -> SafeString:
    """The Jinja2 template with the Django context and ``values`` (as ``{% include … with … %}``)."""
    flat = context.flatten()
    flat.update(values)  # type: ignore[arg-type]
    # The flattened context's keys are the template's names (str).
    return jinja.render(template_name, flat)  # type: ignore[arg-type]
