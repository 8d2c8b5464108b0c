"""The delivery log for the subscriber's administrator (docs/fhir.md "The delivery log page"): the
subscriptions of the units of the administrator's principal, their status, the latest notifications with
attempts, errors and the next retry, and one action, ``retry_now``.

Gated like the API tokens the subscriptions are made with (Perm.API_TOKEN_MANAGE, the local administrator),
scoped to the principal's units as in the admin; another principal's subscription is NotFound. No personal
data is shown: a notification's focus is a resource id."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.accounts.admin import principal_units
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError, NotFound
from brygga.fhir import subscriptions
from brygga.fhir.models import Notification, Subscription

LATEST = 20


@dataclass
class SubscriptionLog:
    subscription: Subscription
    topic_title: str
    pending: int
    events: int  # eventsSinceSubscriptionStart: numbered and waiting for a number
    failing: Notification | None
    latest: list[Notification] = field(default_factory=list)


def _scope(actor: Actor) -> QuerySet[Subscription]:
    actor.require(Perm.API_TOKEN_MANAGE)
    if actor.unit is None:
        return Subscription.objects.none()
    return Subscription.objects.filter(unit__in=principal_units(actor.unit.principal))


def subscription_logs(actor: Actor) -> list[SubscriptionLog]:
    logs = []
    for sub in _scope(actor).select_related("unit").order_by("unit__name", "pk"):
        pending = Notification.objects.filter(subscription=sub, status=Notification.Status.PENDING)
        topic = subscriptions.TOPICS.get(sub.topic)
        logs.append(
            SubscriptionLog(
                subscription=sub,
                topic_title=topic.title if topic else sub.topic,
                pending=pending.count(),
                events=subscriptions.events_since_start(sub),
                failing=pending.filter(attempts__gt=0).order_by("event_number").first(),
                # Newest first by row: a row the sender has not numbered yet is the newest.
                latest=list(Notification.objects.filter(subscription=sub).order_by("-pk")[:LATEST]),
            )
        )
    return logs


def retry_now(actor: Actor, subscription_id: int | str) -> Subscription:
    """ "Försök igen nu": a subscription in error (its handshake failed) is activated again with a new
    handshake; an active one's waiting notifications are due at once and handed to the worker (in order, the
    first failing one first). A subscription that was turned off cannot be retried (FHIR-AV)."""
    try:
        pk = int(subscription_id)
    except (TypeError, ValueError) as exc:
        raise NotFound from exc
    sub = _scope(actor).filter(pk=pk).first()
    if sub is None:
        raise NotFound
    if sub.status == Subscription.Status.OFF:
        raise DomainError.single(
            "subscription", "FHIR-AV", _("Prenumerationen är avslutad och kan inte försökas igen.")
        )
    if sub.status in (Subscription.Status.ERROR, Subscription.Status.REQUESTED):
        return subscriptions.activate(sub.pk)
    Notification.objects.filter(subscription=sub, status=Notification.Status.PENDING).update(
        next_attempt_at=timezone.now()
    )
    Subscription.objects.filter(pk=sub.pk).update(retry_at=None)
    subscriptions.enqueue_delivery([sub.pk])
    sub.refresh_from_db()
    return sub
