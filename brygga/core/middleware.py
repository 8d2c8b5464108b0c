"""Request hygiene before any view runs: two kinds of text that no field of brygga can take are refused here,
once for every page and endpoint, with the field named (the API gets its structured error, a page a Swedish
one). Uploaded files are not inspected (binary content is theirs).

- A NUL character cannot be stored in a PostgreSQL text column (it raised DataError, a server error, from
  every search box and text field).
- A time with a UTC offset outside -12:00..+14:00 (the offsets in use on Earth) is no real time; Python
  parses offsets up to ±23:59 but PostgreSQL refuses beyond ±15:59 (a server error)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from brygga.core.errors import Problem

NUL = "\x00"
NUL_RULE = "NUL-TECKEN"
OFFSET_RULE = "DATUM-TIDSZON"
# An ISO date and time ending in a numeric offset: the offset's sign, hours and minutes.
_OFFSET = re.compile(
    r"^\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*([+-])(\d{2}):?(\d{2})\s*$"
)
EARLIEST_OFFSET_MINUTES = -12 * 60
LATEST_OFFSET_MINUTES = 14 * 60


def offset_out_of_range(value: str) -> bool:
    match = _OFFSET.match(value)
    if match is None:
        return False
    sign, hours, minutes = match.groups()
    offset = (int(hours) * 60 + int(minutes)) * (-1 if sign == "-" else 1)
    return not EARLIEST_OFFSET_MINUTES <= offset <= LATEST_OFFSET_MINUTES


def _rule_for(value: str) -> str | None:
    if NUL in value:
        return NUL_RULE
    if offset_out_of_range(value):
        return OFFSET_RULE
    return None


def _json_problems(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if rule := _rule_for(value):
            yield path, rule
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                yield name, NUL_RULE
            else:
                yield from _json_problems(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_problems(item, f"{path}.{index}" if path else str(index))


def _form_problems(data: Any) -> Iterator[tuple[str, str]]:
    for key, values in data.lists():
        if NUL in key:
            yield key, NUL_RULE
            continue
        for value in values:
            if rule := _rule_for(value):
                yield key, rule
                break


def bad_input_fields(request: HttpRequest) -> list[tuple[str, str]]:
    """(field, rule) for every query parameter, form field and JSON member that no field can take."""
    found = list(_form_problems(request.GET))
    if request.method in ("POST", "PUT", "PATCH"):
        content_type = request.content_type or ""
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            try:
                found += list(_form_problems(request.POST))
            except MultiPartParserError:
                return found  # a broken multipart body: Django leaves POST empty and the endpoint answers 4xx

        elif content_type == "application/json" and request.body:
            try:
                document = json.loads(request.body)
            except ValueError:
                return found  # not JSON at all: the endpoint's own validation answers
            found += list(_json_problems(document))
    return found


def _message(rule: str) -> str:
    if rule == NUL_RULE:
        return _("Fältet innehåller ett otillåtet tecken (NUL).")
    return _("Tidszonen ligger utanför -12:00 till +14:00; ange tiden med en verklig tidszon.")


class RefuseUnstorableInputMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        fields = bad_input_fields(request)
        if not fields:
            return self.get_response(request)
        problems = [Problem(field, rule, _message(rule)) for field, rule in fields]
        if request.path.startswith("/api/"):
            return JsonResponse({"error": "invalid", "problems": [p.as_dict() for p in problems]}, status=400)
        return render(request, "web/bad_input.html", {"errors": problems}, status=400)


class NoStoreMiddleware:
    """``Cache-Control: no-store`` (with Django's never-cache set) on every answer to a signed-in user and on
    every API answer: those are the responses that can carry personal data, and no browser cache, proxy or
    back button may keep them (issue 20 item 5). Anonymous pages (login, published statistics) and static
    files keep their own caching."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        personal = request.path.startswith("/api/") or (user is not None and user.is_authenticated)
        if personal:
            add_never_cache_headers(response)
        return response
