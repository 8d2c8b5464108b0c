"""Jinja2 for the body of the hottest pages (issue 17 item 2, ADR 0705).

A page keeps its Django template: it extends ``base.html`` (the menu, the context processors, the messages)
and its content block holds one ``{% jinja_body "….jinja.html" %}`` tag (``brygga.core.templatetags.jinja``):
it renders the Jinja2 template with everything the Django context holds at that point, so the body sees the
view's context and the context processors' values (``actor``, ``perms``, ``csrf_token`` …) under the same
names. Jinja2 compiles a template to Python once; Django's engine walks its node tree, resolving every
variable through the context's stack, at each render (docs/benchmarks.md has the measured difference).

The output is byte for byte what Django's engine wrote (tests/test_page_content.py compares the rendered pages
with snapshots), because every value goes out the way Django's ``{{ }}`` sends it: localized, then escaped by
Django's ``conditional_escape`` (``finalize`` below). Jinja's own escaping would write ``&#39;`` and ``&#34;``
where Django writes ``&#x27;`` and ``&quot;``. The filters and tags the bodies use are Django's own functions
or the project's, under the same names.

Translations: ``{{ _("…") }}`` is Django's ``gettext``, and ``makemessages`` finds it there as it does in a
Django template; a text with values is ``{{ _("Nästa steg för %(unit)s")|fmt(unit=…) }}``, which escapes the
values as ``blocktranslate`` does. Plural texts are made in Python (``ngettext``) by the view.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from django.conf import settings
from django.template import Context, defaultfilters
from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.formats import localize
from django.utils.functional import Promise
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import get_current_timezone, template_localtime  # type: ignore[attr-defined]
from django.utils.translation import get_language, get_language_info, gettext

TEMPLATES = Path(settings.BASE_DIR) / "brygga" / "templates"


def _finalize(value: Any) -> Any:
    """What Django's ``{{ value }}`` writes (``render_value_in_context``): in local time, localized, escaped
    unless already safe. A SafeString result is left alone by Jinja's own escaping."""
    kind = type(value)
    if kind is str:  # most values: Django's escape, without the checks that cannot apply to a str
        return SafeString(html.escape(value))
    if kind is SafeString:
        return value
    if kind is int and not settings.USE_THOUSAND_SEPARATOR:  # ids: what localize gives without grouping
        return SafeString(value)
    if isinstance(value, Promise):  # a lazy translation (the rules' labels)
        return SafeString(html.escape(str(value)))
    value = localize(template_localtime(value))
    if not isinstance(value, str):
        value = str(value)
    return mark_safe(conditional_escape(value))  # noqa: S308 — conditional_escape has escaped it


def _fmt(text: str, **values: Any) -> SafeString:
    """``blocktranslate with …``: the translated text is not escaped, the values put into it are."""
    return mark_safe(text % {k: conditional_escape(localize(v)) for k, v in values.items()})  # noqa: S308


def _date(value: Any, arg: str | None = None) -> str:
    if value is None or isinstance(value, jinja2.Undefined):  # nothing to format: "" as Django's filter
        return ""
    if (
        arg == "Y-m-d H:i"
        and type(value) is dt.datetime
        and value.tzinfo is not None
        and value.year >= 1000
        and settings.USE_TZ
    ):
        # The bodies' most used format (the case page's history: one a row): in local time, as the filter
        # writes it, through ``isoformat`` at a tenth of the filter's cost (issue 17).
        return value.astimezone(get_current_timezone()).replace(tzinfo=None).isoformat(" ", "minutes")
    # Django's date filter expects local time: its engine converts the value first (expects_localtime).
    return defaultfilters.date(template_localtime(value), arg)


def _options(items: Any, value: str = "pk", label: str = "name") -> SafeString:
    """``{% for i in items %}<option value="{{ i.pk }}">{{ i.name }}</option>{% endfor %}`` in Python: the
    transfer form's wards are a hundred options, two values each through the body's finalize (issue 17).
    Values are ids or plain texts (a lazy text or a safe one goes through Django's escaping)."""
    parts = []
    for item in items:
        key, text = getattr(item, value), getattr(item, label)
        key = html.escape(key) if type(key) is str else _finalize(key)
        text = html.escape(text) if type(text) is str else _finalize(text)
        parts.append(f'<option value="{key}">{text}</option>')
    return SafeString("".join(parts))


# A model field's choice labels by model, field and language, translated once per process: a body's
# ``get_kind_display()`` built the field's choices as a dict and translated a lazy label at every call (the
# case page's history calls it once an event, the largest line of the body; issue 17).
_LABELS: dict[tuple[type, str, str | None], dict[Any, Any]] = {}


def _display(instance: Any, name: str) -> Any:
    """``instance.get_<name>_display()``: the label of the field's value in the active language, or the
    value itself when it is not one of the choices."""
    if instance is None or isinstance(instance, jinja2.Undefined):
        return ""
    key = (type(instance), name, get_language())
    labels = _LABELS.get(key)
    if labels is None:
        field = instance._meta.get_field(name)
        labels = _LABELS[key] = {value: str(label) for value, label in field.flatchoices}
    value = getattr(instance, name)
    return labels.get(value, value)


def _linebreaksbr(value: Any) -> SafeString:
    return defaultfilters.linebreaksbr(value, autoescape=True)  # escapes, then writes <br>


def _default(value: Any, arg: Any) -> Any:
    return value or arg


def _url(name: str, *args: Any) -> str:
    return _reversed(get_urlconf(), get_script_prefix(), name, args)


@lru_cache(maxsize=4096)
def _reversed(urlconf: Any, prefix: str, name: str, args: tuple[Any, ...]) -> str:
    """``reverse`` remembered: a page asks for the same few addresses (its forms' actions, of one case) at
    each render, and the URL patterns do not change while the process runs. The script prefix and URL conf,
    which a request may set, are part of the key."""
    return reverse(name, urlconf=urlconf, args=args)


@jinja2.pass_context
def _csrf_input(context: jinja2.runtime.Context) -> SafeString:
    """Django's ``{% csrf_token %}``: the page's one token (the context's lazy value, resolved once)."""
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":  # noqa: S105 — Django's marker for "no token", not a secret
        return SafeString("")
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)


@jinja2.pass_context
def _include(context: jinja2.runtime.Context, template_name: str, **extra: Any) -> SafeString:
    """``{% include "…" with … %}`` of a Django template (a part shared with pages still rendered by
    Django's engine): rendered with this body's context and the extra values, as Django's include does."""
    values = dict(context.get_all())
    # A missing value is "" in Django's include, and an Undefined would fail there (Django calls callables).
    values.update({k: "" if isinstance(v, jinja2.Undefined) else v for k, v in extra.items()})
    # The Django engine's own template, rendered with a plain Context (no context processors run again).
    template = get_template(template_name).template  # type: ignore[attr-defined]
    return mark_safe(template.render(Context(values, autoescape=True)))  # noqa: S308 — Django escaped it


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(  # noqa: S701 — autoescape is on; escaping is Django's (finalize)
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        # Django writes "" for a missing name or attribute, also of a missing value (participant.unit.name
        # when there is no participant); ChainableUndefined does the same.
        undefined=jinja2.ChainableUndefined,
        finalize=_finalize,
        # Compiled once per process; a changed template is read again only with DEBUG, as Django's cached
        # loader does.
        auto_reload=settings.DEBUG,
        cache_size=64,
        keep_trailing_newline=True,
    )
    environment.globals.update(
        {
            "_": gettext,
            "url": _url,
            "csrf_input": _csrf_input,
            "options": _options,
            "django_include": _include,
            # The footer's language choice: {% get_available_languages %} and {% get_language_info %}.
            "languages": settings.LANGUAGES,
            "language_info": get_language_info,
        }
    )
    environment.filters.update(
        {
            "date": _date,
            "display": _display,
            "default": _default,
            "fmt": _fmt,
            "linebreaksbr": _linebreaksbr,
            "filesizeformat": defaultfilters.filesizeformat,
            "capfirst": defaultfilters.capfirst,
        }
    )
    return environment


_ENVIRONMENT: jinja2.Environment | None = None


def environment() -> jinja2.Environment:
    global _ENVIRONMENT
    if _ENVIRONMENT is None:
        _ENVIRONMENT = _environment()
    return _ENVIRONMENT


ContextHook = Callable[[Mapping[str, Any]], Mapping[str, Any]]
_HOOKS: list[ContextHook] = []


def register(
    globals_: Mapping[str, Any] = {},  # noqa: B006 — only read
    filters: Mapping[str, Any] = {},  # noqa: B006
    context: ContextHook | None = None,
) -> None:
    """An app adds its own helpers (the case page's ``deadline_badge`` …) under the names its Django
    templates use, and optionally a hook that gives values for each render from its context (helpers bound
    to the request's form errors, so that a template calls them without Jinja's context passing)."""
    environment().globals.update(globals_)
    environment().filters.update(filters)
    if context is not None:
        _HOOKS.append(context)


# Translated texts by language: a body asks for a few hundred fixed texts at each render, and Django's
# gettext looks the active translation up through a thread-local at each call. The catalogues do not change
# while the process runs.
_TRANSLATED: dict[str | None, dict[str, str]] = {}


def _translator() -> Callable[[str], str]:
    known = _TRANSLATED.setdefault(get_language(), {})

    def translate(message: str) -> str:
        text = known.get(message)
        if text is None:
            text = known[message] = gettext(message)
        return text

    return translate


def _bound_url() -> Callable[..., str]:
    """``url`` with the request's URL conf and script prefix read once per render: each is an asgiref
    ``Local`` read (about 4 µs), twice for each of the 40 addresses of a case page (issue 17)."""
    urlconf, prefix = get_urlconf(), get_script_prefix()

    def url(name: str, *args: Any) -> str:
        return _reversed(urlconf, prefix, name, args)

    return url


def _bound_csrf_input(context: Mapping[str, Any]) -> Callable[[], SafeString]:
    """``csrf_input`` written once per render, at its first use (a case page has twenty forms); not before,
    as reading the token marks the response for the CSRF cookie."""
    written: list[SafeString] = []

    def csrf_input() -> SafeString:
        if not written:
            token = context.get("csrf_token")
            if not token or token == "NOTPROVIDED":  # noqa: S105 — Django's marker for "no token"
                written.append(SafeString(""))
            else:
                written.append(
                    format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)
                )
        return written[0]

    return csrf_input


def render_values(context: Mapping[str, Any]) -> dict[str, Any]:
    """A body's values: the Django context's, the translator of the active language, ``url`` and
    ``csrf_input`` bound to this request, and the apps' hooks. (The globals of the same names stay for
    templates imported without context.)"""
    values = dict(context)
    values["_"] = _translator()
    values["url"] = _bound_url()
    values["csrf_input"] = _bound_csrf_input(context)
    for hook in _HOOKS:
        values.update(hook(values))
    return values


def render(template_name: str, context: Mapping[str, Any]) -> SafeString:
    template = environment().get_template(template_name)
    return mark_safe(template.render(render_values(context)))  # noqa: S308 — autoescaped
