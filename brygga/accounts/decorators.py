"""Thin-view helpers: one decorator checks login, active unit and permission (fail closed), and turns domain
exceptions into Swedish pages with the right status."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from brygga.accounts.context import AuthedRequest
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError, NotFound, PermissionDenied

View = Callable[..., HttpResponse]


def actor_required(perm: Perm | None = None, needs_unit: bool = True) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            actor = request.actor
            if needs_unit and actor.membership is None:
                return redirect("web:choose_unit")
            if perm is not None and not actor.can(perm):
                return render(request, "web/forbidden.html", {"permission": perm.value}, status=403)
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404 from exc
            except PermissionDenied as exc:
                return render(request, "web/forbidden.html", {"permission": exc.permission}, status=403)

        return wrapped

    return decorator


def run_action(
    request: AuthedRequest,
    name: str,
    *,
    handlers: dict[str, Callable[..., str]],
    open_object: Callable[[str], Any],
    context: Callable[[Any], dict[str, Any]],
    template: str,
    success_url: Callable[[Any], str],
    message_handlers: dict[str, Callable[..., str]] | None = None,
) -> HttpResponse:
    """One POST action of an object page (a case, a SIP, a care request): look the handler up (404 if none),
    open the object through its checked path (``open_object(what)``, logged), run the handler, and either
    redirect with the Swedish success message or re-render the page with the refusal next to the fields.

    ``handlers`` take (actor, object, request.POST); ``message_handlers`` (the shared message thread actions)
    take (actor, object, request), because they also read the uploaded files."""
    from django.contrib import messages as flash

    message_handlers = message_handlers or {}
    handler = handlers.get(name)
    thread_handler = message_handlers.get(name)
    if handler is None and thread_handler is None:
        raise Http404
    actor = request.actor
    obj = open_object(name)
    try:
        # One form, one transaction: a handler that makes several changes (or parses a field after a first
        # change) leaves nothing behind when it is refused. The read of the object above stays logged.
        with transaction.atomic():
            if handler is not None:
                text = handler(actor, obj, request.POST)
            elif thread_handler is not None:
                text = thread_handler(actor, obj, request)
            else:  # pragma: no cover - excluded by the 404 above
                raise Http404
    except DomainError as exc:
        page = context(open_object(""))
        page.update(
            {
                "errors": exc.problems,
                "action": name,
                "form": request.POST,
                "field_errors": {p.field: p.message for p in exc.problems},
            }
        )
        return render(request, template, page, status=exc.status if exc.status < 500 else 400)
    flash.success(request, text)
    return redirect(success_url(obj))
