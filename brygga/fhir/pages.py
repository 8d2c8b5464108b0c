"""The delivery-log page for the subscriber's administrator (``brygga.fhir.delivery_log``)."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from brygga.accounts.context import Actor, AuthedRequest
from brygga.accounts.decorators import actor_required
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError
from brygga.fhir import delivery_log
from brygga.fhir.models import Subscription


@actor_required(Perm.API_TOKEN_MANAGE)
def deliveries(request: AuthedRequest) -> HttpResponse:
    actor: Actor = request.actor
    return render(
        request,
        "fhir/deliveries.html",
        {"logs": delivery_log.subscription_logs(actor), "latest": delivery_log.LATEST},
    )


@require_POST
@actor_required(Perm.API_TOKEN_MANAGE)
def retry(request: AuthedRequest, subscription_id: int) -> HttpResponse:
    actor: Actor = request.actor
    try:
        sub = delivery_log.retry_now(actor, subscription_id)
    except DomainError as exc:
        flash.error(request, exc.problems[0].message)
        return redirect("fhir_pages:deliveries")
    if sub.status == Subscription.Status.ACTIVE:
        flash.success(request, _("Prenumeration %(id)s: nytt försök köat.") % {"id": sub.pk})
    else:
        flash.error(
            request,
            _("Prenumeration %(id)s: mottagaren godtog inte anslutningen (%(error)s).")
            % {"id": sub.pk, "error": sub.last_error},
        )
    return redirect("fhir_pages:deliveries")
