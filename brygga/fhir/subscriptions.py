"""Topic-based subscriptions (the R4B Subscriptions backport): the topics, the outbox written with each case
event, and the rest-hook delivery the background worker runs (ADR 0601).

Delivery is at least once, in order per subscription: one sender at a time holds a subscription's lease,
sends its due notifications by ``eventNumber``, and stops at the first failure (later ones wait — a receiver
never sees #7 before #6). A failure is retried with exponential backoff. A killed worker leaves the row
pending and its lease expires; the next run sends it again, so a receiver must de-duplicate on
``eventNumber`` (the backport's ``eventsSinceSubscriptionStart`` lets it see gaps)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.dispatch import receiver
from django.utils import timezone

from brygga.cases.models import CaseEvent, Participant
from brygga.cases.signals import events_recorded
from brygga.core import statements
from brygga.fhir import mapping, systems
from brygga.fhir.models import Notification, Subscription

log = logging.getLogger(__name__)
HEARTBEAT_PERIOD = (
    "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-heartbeat-period"
)
Kind = CaseEvent.Kind


@dataclass(frozen=True)
class Topic:
    code: str
    title: str
    kinds: tuple[str, ...]
    description: str

    @property
    def url(self) -> str:
        return f"{systems.TOPIC_BASE}/{self.code}"


TOPICS = {
    t.code: t
    for t in (
        Topic(
            "admission-notice",
            "Inskrivningsmeddelande",
            (Kind.ADMISSION_NOTICE_SENT,),
            "Ett inskrivningsmeddelande har skickats till enheten (fokus: enhetens Task).",
        ),
        Topic(
            "expected-date-changed",
            "Beräknat utskrivningsdatum ändrat",
            (Kind.EXPECTED_DATE_CHANGED,),
            "Avdelningen har ändrat beräknat utskrivningsdatum (fokus: Encounter).",
        ),
        Topic(
            "discharge-ready",
            "Utskrivningsklar och återtagen",
            (Kind.DISCHARGE_READY_SET, Kind.DISCHARGE_READY_WITHDRAWN),
            "Patienten är utskrivningsklar, eller bedömningen har återtagits (fokus: enhetens Task).",
        ),
        Topic("discharge", "Utskrivning", (Kind.DISCHARGED,), "Patienten är utskriven (fokus: Encounter)."),
        Topic(
            "new-message",
            "Nytt meddelande",
            (Kind.MESSAGE_SENT,),
            "Ett meddelande har skickats i vårdtillfällets tråd "
            "(fokus: Encounter; meddelandet som sammanhang).",
        ),
        Topic(
            "sip-summons",
            "Kallelse till SIP",
            (Kind.SIP_SUMMONS_SENT,),
            "Fast vårdkontakt har kallat till SIP (fokus: enhetens Task, med tidsgränsen).",
        ),
    )
}
TOPIC_BY_URL = {t.url: t for t in TOPICS.values()}
TOPICS_BY_KIND: dict[str, list[Topic]] = defaultdict(list)
for _topic in TOPICS.values():
    for _kind in _topic.kinds:
        TOPICS_BY_KIND[_kind].append(_topic)


def topic_resource(topic: Topic) -> dict[str, Any]:
    """The topic as an R4B SubscriptionTopic."""
    return {
        "resourceType": "SubscriptionTopic",
        "id": topic.code,
        "url": topic.url,
        "title": topic.title,
        "status": "active",
        "description": topic.description,
        "eventTrigger": [
            {
                "description": f"brygga-händelse {kind}",
                "event": {"coding": [{"system": f"{systems.CANONICAL}/CodeSystem/case-event", "code": kind}]},
                "resource": "http://hl7.org/fhir/StructureDefinition/Encounter",
            }
            for kind in topic.kinds
        ],
        "notificationShape": [{"resource": "Encounter"}],
    }


# --- the outbox ---------------------------------------------------------------------------------------------


def _focus(event: CaseEvent, unit_id: int) -> str:
    """What the notification is about, seen by the subscriber's unit: its own Task where it is a receiver."""
    if event.kind in (Kind.ADMISSION_NOTICE_SENT, Kind.DISCHARGE_READY_SET, Kind.SIP_SUMMONS_SENT):
        target = event
    elif event.kind == Kind.DISCHARGE_READY_WITHDRAWN:
        found = (
            CaseEvent.objects.filter(
                case_id=event.case_id, kind=Kind.DISCHARGE_READY_SET, recorded_at__lte=event.recorded_at
            )
            .order_by("-recorded_at", "-pk")
            .first()
        )
        if found is None:
            return f"Encounter/{event.case_id}"
        target = found
    else:
        return f"Encounter/{event.case_id}"
    return f"Task/{target.pk}-{unit_id}" if unit_id != target.unit_id else f"Task/{target.pk}"


@receiver(events_recorded)
def write_outbox(sender: Any, events: list[CaseEvent], **kwargs: Any) -> None:
    """For every event a topic covers: one Notification per active subscription of a unit taking part in the
    case (other than the unit that caused the event). No lock is taken: the sender numbers the rows when it
    first sees them (``_number``), so writers of events do not wait for each other."""
    relevant = [e for e in events if e.kind in TOPICS_BY_KIND]
    if not relevant:
        return
    codes = tuple(sorted({t.code for e in relevant for t in TOPICS_BY_KIND[e.kind]}))
    # Asked on every event a user records, usually with no subscription at all: compiled once per process
    # and set of topics (ADR 0707).
    subscriptions = statements.reused(
        ("active_subscriptions", codes),
        lambda: Subscription.objects.filter(status=Subscription.Status.ACTIVE, topic__in=codes),
    )
    if not subscriptions:
        return
    case_ids = {e.case_id for e in relevant}
    roles = {
        (p["case_id"], p["unit_id"]): p["role"]
        for p in Participant.objects.filter(
            case_id__in=case_ids,
            status=Participant.Status.ACTIVE,
            unit_id__in={s.unit_id for s in subscriptions},
        ).values("case_id", "unit_id", "role")
    }
    planned: dict[int, list[tuple[CaseEvent, str]]] = defaultdict(list)
    for event in relevant:
        topic_codes = {t.code for t in TOPICS_BY_KIND[event.kind]}
        for sub in subscriptions:
            # Not about the unit's own actions: its system knows what it sent.
            if (
                sub.topic in topic_codes
                and (event.case_id, sub.unit_id) in roles
                and event.unit_id != sub.unit_id
            ):
                planned[sub.pk].append((event, _focus(event, sub.unit_id)))
    if not planned:
        return
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(subscription_id=pk, case_event=event, focus=focus, created_at=now, next_attempt_at=now)
        for pk, items in planned.items()
        for event, focus in items
    )
    ids = sorted(planned)
    transaction.on_commit(lambda: enqueue_delivery(ids))


def enqueue_delivery(subscription_ids: Iterable[int], run_after: dt.datetime | None = None) -> None:
    from brygga.fhir.tasks import deliver_notifications_task

    ids = list(subscription_ids)
    if run_after is None and ids:
        # A subscription being delivered right now needs no new task: the running one looks again for rows
        # committed while it held the lease (deliver). Nor does one backing off: its retry is queued and sends
        # the new rows after the old ones. At 100 events/s one task per commit per subscription was most of
        # the worker's work and queued the live subscription behind the redundant ones.
        now = timezone.now()
        busy = set(
            Subscription.objects.filter(pk__in=ids)
            .filter(Q(leased_until__gt=now) | Q(retry_at__gt=now))
            .values_list("pk", flat=True)
        )
        ids = [pk for pk in ids if pk not in busy]
    for pk in ids:
        try:
            if run_after is not None and deliver_notifications_task.get_backend().supports_defer:
                deliver_notifications_task.using(run_after=run_after).enqueue(pk)
            elif run_after is None:
                deliver_notifications_task.enqueue(pk)
        except Exception:  # noqa: BLE001 — the row is safe in the outbox; the sweep sends it later
            log.exception("could not enqueue delivery for subscription %s", pk)


# --- delivery -----------------------------------------------------------------------------------------------


def backoff(attempts: int) -> dt.timedelta:
    base = settings.BRYGGA_FHIR_RETRY_BASE_SECONDS
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), settings.BRYGGA_FHIR_RETRY_MAX_SECONDS))


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.BRYGGA_FHIR_DELIVERY_LEASE_SECONDS)


def _claim(pk: int) -> bool:
    now = timezone.now()
    return (
        Subscription.objects.filter(pk=pk, status=Subscription.Status.ACTIVE)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .update(leased_until=now + _lease())
        == 1
    )


def _release(pk: int) -> None:
    Subscription.objects.filter(pk=pk).update(leased_until=None)


def notification_bundle(
    sub: Subscription, batch: list[Notification], kind: str = "event-notification"
) -> dict[str, Any]:
    """The R4B backport notification: a history Bundle whose first entry is the SubscriptionStatus. ``kind``
    is ``event-notification``, ``handshake`` (before activation) or ``heartbeat`` (nothing to tell)."""
    now = mapping.instant(timezone.now())
    topic = TOPICS[sub.topic]
    # A batch is numbered before it is sent (deliver: _number, then only numbered rows).
    number = (batch[-1].event_number or 0) if batch else 0
    status: dict[str, Any] = {
        "resourceType": "SubscriptionStatus",
        "status": "requested" if kind == "handshake" else "active",
        "type": kind,
        "eventsSinceSubscriptionStart": str(sub.events_since_start),
        "subscription": {"reference": f"Subscription/{sub.pk}"},
        "topic": topic.url,
        "notificationEvent": [],
    }
    entries: list[dict[str, Any]] = []
    for n in batch:
        event: dict[str, Any] = {
            "eventNumber": str(n.event_number),
            "timestamp": mapping.instant(n.case_event.recorded_at),
        }
        if sub.content != Subscription.Content.EMPTY:
            event["focus"] = {"reference": n.focus}
            if n.case_event.kind == Kind.MESSAGE_SENT and n.case_event.data.get("message"):
                event["additionalContext"] = [{"reference": f"Communication/{n.case_event.data['message']}"}]
            entries.append(
                {
                    "fullUrl": f"{settings.BRYGGA_BASE_URL.rstrip('/')}/fhir/r4/{n.focus}",
                    "request": {"method": "PUT", "url": n.focus},
                    "response": {"status": "200"},
                }
            )
        status["notificationEvent"].append(event)
    if not status["notificationEvent"]:
        del status["notificationEvent"]
    return {
        "resourceType": "Bundle",
        "type": "history",
        "timestamp": now,
        "entry": [
            {
                "fullUrl": f"urn:uuid:{_bundle_uuid(sub, kind, number)}",
                "resource": status,
                "request": {"method": "GET", "url": f"Subscription/{sub.pk}/$status"},
                "response": {"status": "200"},
            },
            *entries,
        ],
    }


def _bundle_uuid(sub: Subscription, kind: str, number: int) -> uuid.UUID:
    # A notification's id is stable across retries (the receiver may de-duplicate on it); a handshake's or a
    # heartbeat's is new each time.
    if kind == "event-notification":
        return uuid.uuid5(uuid.NAMESPACE_URL, f"{TOPICS[sub.topic].url}/{sub.pk}/{number}")
    return uuid.uuid4()


def endpoint_allowed(url: str) -> bool:
    """Is ``url``'s host on ``BRYGGA_FHIR_ENDPOINT_HOSTS`` (subdomains included)? An empty list allows none
    (fail closed against SSRF) unless ``BRYGGA_FHIR_ANY_ENDPOINT_HOST`` (development, tests)."""
    hosts = settings.BRYGGA_FHIR_ENDPOINT_HOSTS
    if not hosts:
        return bool(settings.BRYGGA_FHIR_ANY_ENDPOINT_HOST)
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return any(host == h or host.endswith(f".{h}") for h in hosts)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A receiver's redirect is not followed (it could point past the allow-list); a 3xx is a failure."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post_notification(sub: Subscription, bundle: dict[str, Any]) -> tuple[int | None, str]:
    """POST the bundle to the rest-hook; (HTTP status, error text). Only 2xx counts as delivered. The host is
    checked against the allow-list again at each send (the list may have shrunk since the subscription)."""
    if not endpoint_allowed(sub.endpoint):
        return None, "mottagarens adress är inte godkänd (BRYGGA_FHIR_ENDPOINT_HOSTS)"
    data = json.dumps(bundle, separators=(",", ":")).encode()
    request = urllib.request.Request(sub.endpoint, data=data, method="POST")  # noqa: S310 — https/http only
    request.add_header("Content-Type", "application/fhir+json")
    for line in sub.headers:
        name, _sep, value = str(line).partition(":")
        if name.strip():
            request.add_header(name.strip(), value.strip())
    try:
        with _opener.open(request, timeout=settings.BRYGGA_FHIR_NOTIFY_TIMEOUT) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, str(getattr(exc, "reason", exc))[:300]


def _batch_size() -> int:
    return max(1, int(getattr(settings, "FHIR_NOTIFICATION_BATCH", 25)))


NUMBER_CHUNK = 1000


def _number(pk: int) -> None:
    """Give the subscription's unnumbered notifications their ``eventNumber``s, oldest row first, after the
    last number given. Called by the sender under the subscription's lease, so the rows it sees are the
    committed ones and the numbers follow commit order (a row committed late gets a later number, never a
    gap). The unique (subscription, event_number) constraint refuses a second sender whose lease ran out."""
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().only("pk", "events_since_start").get(pk=pk)
        ids = list(
            Notification.objects.filter(
                subscription_id=pk, status=Notification.Status.PENDING, event_number__isnull=True
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:NUMBER_CHUNK]
        )
        if not ids:
            return
        first = sub.events_since_start + 1
        Notification.objects.bulk_update(
            [Notification(pk=row, event_number=first + i) for i, row in enumerate(ids)], ["event_number"]
        )
        Subscription.objects.filter(pk=pk).update(events_since_start=sub.events_since_start + len(ids))


def events_since_start(sub: Subscription) -> int:
    """The backport's ``eventsSinceSubscriptionStart``: the numbered events and those still waiting for
    their number."""
    waiting = Notification.objects.filter(
        subscription=sub, status=Notification.Status.PENDING, event_number__isnull=True
    ).count()
    return sub.events_since_start + waiting


def deliver(pk: int) -> int:
    """Send the subscription's due notifications in order; returns how many were delivered. When several are
    waiting they go together, oldest first, up to ``FHIR_NOTIFICATION_BATCH`` in one notification Bundle (the
    backport's ``notificationEvent`` is a list; ADR 0604): a subscriber that fell behind, or a burst of
    events, costs one request per batch instead of one per event. Stops at the first failure (scheduling the
    retry of the whole batch, still in order) or when nothing is due."""
    delivered = 0
    while True:
        if not _claim(pk):
            return delivered
        retry_at: dt.datetime | None = None
        backing_off = False
        try:
            while True:
                _number(pk)
                sub = Subscription.objects.get(pk=pk)
                if sub.status != Subscription.Status.ACTIVE:
                    break
                batch = list(
                    Notification.objects.filter(
                        subscription_id=pk, status=Notification.Status.PENDING, event_number__isnull=False
                    )
                    .select_related("case_event")
                    .order_by("event_number")[: _batch_size()]
                )
                if not batch:
                    _heartbeat_if_due(sub)
                    break
                due = batch[0]  # the oldest decides: nothing overtakes a notification waiting for its retry
                now = timezone.now()
                if due.next_attempt_at > now:
                    # Backing off: the attempt that failed scheduled its retry (and the fhir_deliver sweep
                    # restarts one a crash lost), so nothing more is queued here. Re-queueing on every new
                    # event gave a subscriber that is down a growing pile of deferred tasks.
                    backing_off = True
                    break
                ids = [n.pk for n in batch]
                Subscription.objects.filter(pk=pk).update(leased_until=now + _lease())
                status, error = post_notification(sub, notification_bundle(sub, batch))
                done = timezone.now()
                if status is not None and 200 <= status < 300:
                    Subscription.objects.filter(pk=pk).update(last_sent_at=done, retry_at=None)
                    Notification.objects.filter(pk__in=ids).update(
                        status=Notification.Status.DELIVERED,
                        attempts=F("attempts") + 1,
                        last_attempt_at=done,
                        last_status=status,
                        last_error="",
                        delivered_at=done,
                    )
                    delivered += len(batch)
                    continue
                retry_at = done + backoff(due.attempts + 1)
                Subscription.objects.filter(pk=pk).update(retry_at=retry_at)
                Notification.objects.filter(pk__in=ids).update(
                    attempts=F("attempts") + 1,
                    last_attempt_at=done,
                    last_status=status,
                    last_error=error or f"HTTP {status}",
                    next_attempt_at=retry_at,
                )
                break
        finally:
            _release(pk)
        if retry_at is not None:
            enqueue_delivery([pk], run_after=retry_at)
            return delivered
        if backing_off:
            return delivered
        # Something committed while the lease was held (its enqueue found the lease taken): look again.
        if not Notification.objects.filter(
            subscription_id=pk, status=Notification.Status.PENDING, next_attempt_at__lte=timezone.now()
        ).exists():
            return delivered


# --- handshake and heartbeat (R4B backport) ----------------------------------------------------------------


def _heartbeat_at(sub: Subscription) -> dt.datetime | None:
    if not sub.heartbeat_period or sub.status != Subscription.Status.ACTIVE:
        return None
    return (sub.last_sent_at or sub.created_at) + dt.timedelta(seconds=sub.heartbeat_period)


def _heartbeat_if_due(sub: Subscription) -> None:
    """Under the subscription's lease, with nothing pending: a ``heartbeat`` bundle when nothing was sent for
    ``heartbeatPeriod``. A failed heartbeat is recorded on the subscription (the delivery log shows it) and
    the next one is tried a period later; it does not end the subscription."""
    due_at = _heartbeat_at(sub)
    if due_at is None or due_at > timezone.now():
        return
    status, error = post_notification(sub, notification_bundle(sub, [], "heartbeat"))
    done = timezone.now()
    if status is not None and 200 <= status < 300:
        Subscription.objects.filter(pk=sub.pk).update(last_sent_at=done)
    else:
        Subscription.objects.filter(pk=sub.pk).update(
            last_sent_at=done,
            last_error=(f"heartbeat: {error or f'HTTP {status}'}")[:300],
            last_error_at=done,
        )


def send_heartbeats(pk: int) -> dt.datetime | None:
    """The heartbeat task's work: deliver what is due (a heartbeat among it) and answer when the next
    heartbeat is due (None: the subscription has no heartbeat or is not active)."""
    deliver(pk)
    sub = Subscription.objects.filter(pk=pk).first()
    if sub is None:
        return None
    due_at = _heartbeat_at(sub)
    if due_at is None:
        return None
    # Busy (another sender held the lease) or just sent: look again at the next due time, never in a loop.
    return max(due_at, timezone.now() + dt.timedelta(seconds=1))


def schedule_heartbeat(pk: int, at: dt.datetime) -> None:
    from brygga.fhir.tasks import heartbeat_task

    try:
        if heartbeat_task.get_backend().supports_defer:
            heartbeat_task.using(run_after=at).enqueue(pk)
    except Exception:  # noqa: BLE001 — the sweep (fhir_deliver) restarts a broken heartbeat chain
        log.exception("could not schedule the heartbeat of subscription %s", pk)


def activate(pk: int) -> Subscription:
    """The handshake: a ``handshake`` bundle to the endpoint; a 2xx answer makes the subscription active
    (notifications are written from then on), anything else ``error`` with the reason. Called after the
    subscription is committed, outside any transaction (an HTTP request is never held inside one)."""
    now = timezone.now()
    claimed = (
        Subscription.objects.filter(
            pk=pk, status__in=[Subscription.Status.REQUESTED, Subscription.Status.ERROR]
        )
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .update(status=Subscription.Status.REQUESTED, leased_until=now + _lease())
    )
    sub = Subscription.objects.get(pk=pk)
    if not claimed:
        return sub
    try:
        status, error = post_notification(sub, notification_bundle(sub, [], "handshake"))
        done = timezone.now()
        if status is not None and 200 <= status < 300:
            Subscription.objects.filter(pk=pk).update(
                status=Subscription.Status.ACTIVE, last_sent_at=done, last_error="", last_error_at=None
            )
        else:
            Subscription.objects.filter(pk=pk).update(
                status=Subscription.Status.ERROR,
                last_error=f"handshake: {error or f'HTTP {status}'}"[:300],
                last_error_at=done,
            )
    finally:
        _release(pk)
    sub.refresh_from_db()
    if sub.status == Subscription.Status.ACTIVE:
        # Pending notifications from before an error (a re-activation) go out now; the heartbeat chain starts.
        enqueue_delivery([pk])
        at = _heartbeat_at(sub)
        if at is not None:
            schedule_heartbeat(pk, at)
    return sub


def overdue_heartbeats(now: dt.datetime | None = None) -> list[int]:
    """Active subscriptions whose heartbeat is a whole period late: their chain of deferred heartbeat tasks
    broke (a worker lost, a backend that cannot defer). The sweep starts them again."""
    now = now or timezone.now()
    late = []
    for sub in Subscription.objects.filter(
        status=Subscription.Status.ACTIVE, heartbeat_period__isnull=False
    ).only("pk", "heartbeat_period", "last_sent_at", "created_at", "status"):
        due_at = _heartbeat_at(sub)
        if due_at is not None and due_at + dt.timedelta(seconds=sub.heartbeat_period or 0) <= now:
            late.append(sub.pk)
    return late


def due_subscriptions(now: dt.datetime | None = None) -> list[int]:
    """Subscriptions whose next notification in order is due: what the sweep (``manage.py fhir_deliver``)
    hands the worker after a crash, or with a task backend that cannot defer a retry."""
    now = now or timezone.now()
    pending = Notification.objects.filter(
        status=Notification.Status.PENDING, subscription__status=Subscription.Status.ACTIVE
    )
    due = []
    for pk in sorted(set(pending.values_list("subscription_id", flat=True))):
        first = (
            pending.filter(subscription_id=pk)
            .order_by(F("event_number").asc(nulls_last=True), "pk")  # a row not yet numbered comes last
            .values_list("next_attempt_at", flat=True)[0]
        )
        if first <= now:
            due.append(pk)
    return due


def status_resource(sub: Subscription) -> dict[str, Any]:
    """``$status``: the R4B SubscriptionStatus of one subscription."""
    resource: dict[str, Any] = {
        "resourceType": "SubscriptionStatus",
        "status": sub.status if sub.status != Subscription.Status.ERROR else "error",
        "type": "query-status",
        "eventsSinceSubscriptionStart": str(events_since_start(sub)),
        "subscription": {"reference": f"Subscription/{sub.pk}"},
        "topic": TOPICS[sub.topic].url,
    }
    failing = (
        Notification.objects.filter(subscription=sub, status=Notification.Status.PENDING, attempts__gt=0)
        .order_by("event_number")
        .first()
    )
    errors = []
    if failing is not None:
        errors.append({"text": f"#{failing.event_number}: {failing.last_error} ({failing.attempts} försök)"})
    if sub.last_error:
        errors.append({"text": sub.last_error})
    if errors:
        resource["error"] = errors
    return resource


def subscription_resource(sub: Subscription) -> dict[str, Any]:
    """The subscription in the backport profile's R4B shape."""
    resource: dict[str, Any] = {
        "resourceType": "Subscription",
        "id": str(sub.pk),
        "meta": {
            "profile": [
                "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription"
            ]
        },
        "status": sub.status,
        "reason": sub.reason or TOPICS[sub.topic].title,
        "criteria": TOPICS[sub.topic].url,
        "channel": {
            "type": "rest-hook",
            "endpoint": sub.endpoint,
            "payload": "application/fhir+json",
            "_payload": {
                "extension": [
                    {
                        "url": "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content",
                        "valueCode": sub.content,
                    }
                ]
            },
        },
    }
    if sub.heartbeat_period:
        resource["channel"]["extension"] = [
            {"url": HEARTBEAT_PERIOD, "valueUnsignedInt": sub.heartbeat_period}
        ]
    if sub.status == Subscription.Status.ERROR and sub.last_error:
        resource["error"] = sub.last_error
    return resource


def prune_notifications(days: int, batch: int = 5000) -> int:
    """Delete delivered and dropped notifications created more than ``days`` ago, in batches (short
    transactions beside the live outbox); pending ones stay. Returns how many were deleted."""
    cutoff = timezone.now() - dt.timedelta(days=days)
    done = Notification.objects.filter(
        status__in=[Notification.Status.DELIVERED, Notification.Status.DROPPED], created_at__lt=cutoff
    )
    deleted = 0
    while True:
        ids = list(done.values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += Notification.objects.filter(pk__in=ids).delete()[0]
