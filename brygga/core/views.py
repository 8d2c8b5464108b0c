"""Thin-view helpers: one decorator checks login, active unit and permission (fail closed), and turns domain
exceptions into Swedish pages with the right status."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from brygga.accounts.permissions import Perm
from brygga.core.errors import NotFound, PermissionDenied

View = Callable[..., HttpResponse]


def actor_required(perm: Perm | None = None, needs_unit: bool = True) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            actor = request.actor  # type: ignore[attr-defined]
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
