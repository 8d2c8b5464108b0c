"""The message actions of the case, SIP and care request pages: one set of form handlers for the shared
partial ``messaging/_threads.jinja.html`` (a Jinja2 body, ADR 0705). Each page's action view looks the name
up in ``ACTIONS`` and calls the handler with the subject and the request (the form and the uploaded files);
the service does the checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.consent.services import Basis, DisclosureRecords, may_disclose
from brygga.messaging import services as messaging
from brygga.messaging.models import Thread
from brygga.organisations.models import Unit


def _checked(post: Any, name: str) -> bool:
    return post.get(name) == "on"


def _files(request: HttpRequest) -> list[Any]:
    return [f for f in request.FILES.getlist("file") if f]


def _message(actor: Actor, subject: messaging.Subject, request: HttpRequest) -> str:
    post = request.POST
    reply_to = messaging.message_of(subject, post["reply_to"], actor.unit) if post.get("reply_to") else None
    messaging.send_message(
        actor,
        subject,
        body=post.get("body", ""),
        category=post.get("category", ""),
        title=post.get("subject", ""),
        reply_to=reply_to,
        quote=post.get("quote", "") if _checked(post, "include_quote") else "",
        files=_files(request),
    )
    return _("Meddelandet är skickat.")


def _pin(actor: Actor, subject: messaging.Subject, request: HttpRequest) -> str:
    message = messaging.message_of(subject, request.POST.get("message"), actor.unit)
    messaging.pin_message(actor, subject, message, request.POST.get("pinned", "1") == "1")
    return _("Meddelandet är fäst.") if message.pinned else _("Meddelandet är inte längre fäst.")


def _forward(actor: Actor, subject: messaging.Subject, request: HttpRequest) -> str:
    post = request.POST
    message = messaging.message_of(subject, post.get("message"), actor.unit)
    to_unit = None
    if (post.get("to_unit") or "").strip():
        to_unit = subject.resolve_unit(post["to_unit"])
    messaging.forward_message(
        actor,
        subject,
        message,
        include_text=_checked(post, "include_text"),
        title=post.get("subject", ""),
        category=post.get("category", ""),
        reason=post.get("reason", ""),
        to_unit=to_unit if isinstance(to_unit, Unit) else None,
        files=_files(request),
    )
    return _("Meddelandet är vidaresänt.")


ACTIONS: dict[str, Callable[[Actor, messaging.Subject, HttpRequest], str]] = {
    "message": _message,
    "pin": _pin,
    "forward": _forward,
}


def run(name: str, actor: Actor, obj: Any, request: HttpRequest) -> str:
    return ACTIONS[name](actor, messaging.subject_for(obj), request)


def handlers() -> dict[str, Callable[[Actor, Any, HttpRequest], str]]:
    """The thread actions as ``run_action`` message handlers (actor, object, request)."""
    return {name: partial(run, name) for name in ACTIONS}


def _recipients(subject: messaging.Subject, sender: Unit) -> list[dict[str, Any]]:
    """Who would receive a message now and on which basis (or which rule refuses it), shown above the form
    so the writer knows before writing (the same decision the service makes when sending)."""

    rows = []
    records = DisclosureRecords(subject.person)  # one reading of the consents for every recipient
    for unit in subject.recipient_units(sender):
        result = may_disclose(subject.person, messaging.MESSAGE_CATEGORY, unit, sender, records=records)
        rows.append(
            {
                "unit": unit,
                "basis": result if isinstance(result, Basis) else None,
                "refusal": None if isinstance(result, Basis) else result,
            }
        )
    return rows


def context(
    actor: Actor, obj: Any, url_name: str, pk: int, subject: messaging.Subject | None = None, **extra: Any
) -> dict[str, Any]:
    """What the partial needs, for a page whose action URL is ``url_name`` with (pk, action name).
    ``subject``: the object's subject adapter when the page has built it (with rows it has read)."""
    subject = subject or messaging.subject_for(obj)
    sender = subject.sender_unit(actor) if actor.can(Perm.MESSAGE_SEND) else None
    recipients = _recipients(subject, sender) if sender is not None else []
    refused = any(r["refusal"] for r in recipients)
    return {
        "recipients": recipients,
        # a receiver refused for want of a basis: the way to record the consent, with the case's receivers
        "consent_url": reverse("sip:consents", args=[subject.person.pk]) + f"?arende={pk}#consent"
        if refused and subject.kind == "case" and actor.can(Perm.CONSENT_RECORD)
        else "",
        "threads": messaging.thread_list(subject, actor.unit),
        "pinned": messaging.pinned_of(subject, actor.unit),
        "categories": Thread.Category.choices,
        "urls": {name: reverse(url_name, args=[pk, name]) for name in ACTIONS},
        "can_write": sender is not None,
        "can_forward_to_unit": subject.kind == "case",
        **extra,
    }
