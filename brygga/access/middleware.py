"""Denied attempts in the access log (R-LOG-1; issue 13 item 8; ADR 0801).

Asking for a person, case or other object that is not the unit's answers 404, exactly like asking for one that
does not exist (need-to-know). The log reviewer must still see the attempt: who asked, what was asked and why
it was refused. Every ``NotFound`` raised while serving a request is noted (brygga.core.errors.REFUSALS); when
the answer is 404 and the caller is known, the last refusal is written as a DENIED entry here, after the
view's transaction (ATOMIC_REQUESTS) has ended, so the entry is kept while the refused request leaves nothing
else behind."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from brygga.access.services import log_denied
from brygga.core.errors import REFUSALS, NotFound


class DeniedAccessLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusals: list[NotFound] = []
        token = REFUSALS.set(refusals)
        try:
            response = self.get_response(request)
        finally:
            REFUSALS.reset(token)
        actor = getattr(request, "actor", None)
        if response.status_code == 404 and refusals and actor is not None:
            refusal = refusals[-1]
            with transaction.atomic():
                log_denied(actor, f"{request.method} {request.path}", refusal.reason, refusal.person_id)
        return response
