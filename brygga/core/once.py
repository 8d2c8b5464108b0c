"""A double submit of a web form has one effect (issue 20 item 3; ADR 0803).

Every ``<form method="post">`` on a page served to a signed-in user gets a one-time token (a hidden
``form_token`` field, added here to the HTML so no template can forget it). The first POST with a token claims
it in its own, committed transaction before the view runs (the unique constraint of the API's idempotency
records, ADR 0106, is the lock); a second POST with the same token — a double-click, a reload, the back
button — does not run the view again: it is sent where the first one went, or, while the first is still
running, waits for it. A refused submission (a 4xx page with the errors) releases the token, so the corrected
form can be sent; its page carries fresh tokens anyway."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages as flash
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _

from brygga.core.models import IdempotencyRecord

FIELD = "form_token"
KEY_PREFIX = "form:"
PENDING = 0
# How long a second submit waits for the first to finish before it is told the form is being handled.
WAIT_SECONDS = 10.0
_FORM_TAG = re.compile(rb"<form\b[^>]*\bmethod\s*=\s*[\"']?post[\"']?[^>]*>", re.IGNORECASE)
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _unit_actor(request: HttpRequest) -> Any:
    actor = getattr(request, "actor", None)
    if actor is None or actor.unit is None or request.path.startswith("/api/"):
        return None
    return actor


def add_tokens(content: bytes) -> bytes:
    """A fresh token after every POST form's opening tag."""
    return _FORM_TAG.sub(
        lambda m: m.group(0) + f'<input type="hidden" name="{FIELD}" value="{uuid.uuid4().hex}">'.encode(),
        content,
    )


class OneTimeFormMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        actor = _unit_actor(request)
        token = request.POST.get(FIELD, "") if actor is not None and request.method == "POST" else ""
        if token and _TOKEN.match(token):
            return self._once(request, actor, KEY_PREFIX + token)
        return self._with_tokens(request, self.get_response(request))

    def _with_tokens(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if (
            _unit_actor(request) is not None
            and not response.streaming
            and response.get("Content-Type", "").startswith("text/html")
        ):
            response.content = add_tokens(response.content)
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response

    def _once(self, request: HttpRequest, actor: Any, key: str) -> HttpResponse:
        owner = {"user": actor.user, "unit": actor.unit, "key": key}
        try:
            with transaction.atomic():
                claim = IdempotencyRecord.objects.create(**owner, request_hash="", status=PENDING, body={})
        except IntegrityError:
            return self._replay(request, owner)
        try:
            response = self.get_response(request)
        except BaseException:
            IdempotencyRecord.objects.filter(pk=claim.pk).delete()
            raise
        if response.status_code >= 400:
            # Refused (the page shows the errors) or failed: nothing was done, so the token may be used again.
            IdempotencyRecord.objects.filter(pk=claim.pk).delete()
        else:
            location = response.get("Location", "") if 300 <= response.status_code < 400 else ""
            IdempotencyRecord.objects.filter(pk=claim.pk).update(
                status=response.status_code, body={"location": location}
            )
        return self._with_tokens(request, response)

    def _replay(self, request: HttpRequest, owner: dict[str, Any]) -> HttpResponse:
        deadline = time.monotonic() + WAIT_SECONDS
        record = IdempotencyRecord.objects.filter(**owner).first()
        while record is not None and record.status == PENDING and time.monotonic() < deadline:
            time.sleep(0.05)
            record = IdempotencyRecord.objects.filter(**owner).first()
        if record is None:  # the first submit was refused and released the token: this one runs
            return self._with_tokens(request, self.get_response(request))
        location = record.body.get("location", "") if isinstance(record.body, dict) else ""
        if record.status != PENDING and location:
            flash.info(request, _("Formuläret hade redan skickats; det registrerades en gång."))
            return HttpResponseRedirect(location)
        response = render(request, "web/already_sent.html", {"pending": record.status == PENDING}, status=409)
        return self._with_tokens(request, response)
