"""Notifications that are not missed (issue 18 item 2, ADR 0901).

When a case event concerns other units, every user of those units who wants it gets a ``Notification``: at
once for what cannot wait (discharge-ready set or withdrawn, a rejected notice, death, cancellation, the
unit's own deadline due soon, an escalation), otherwise in the next digest at the user's chosen hours. The
background worker (django-tasks) delivers them through Django's e-mail backend or the SMS adapter; a failed
delivery is retried with backoff (1, 2, 4, 8 minutes …) and after ``MAX_ATTEMPTS`` stays ``failed``, listed
for the administrator. Nothing about the patient is in a notification: the unit, what kind of thing
happened and a link (R-SEK)."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.accounts.models import Membership
from brygga.accounts.permissions import Perm, role_has
from brygga.cases import rules
from brygga.cases.models import Case, CaseEvent, Participant
from brygga.core import statements
from brygga.organisations.models import Unit
from brygga.receiving.models import Notification, NotificationPreference, SentSms
from brygga.receiving.sms import sms_adapter

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
SILENT = {CaseEvent.Kind.ADMITTED, CaseEvent.Kind.CHECKLIST_UPDATED, CaseEvent.Kind.ACKNOWLEDGED}
URGENT = {
    CaseEvent.Kind.DISCHARGE_READY_SET,
    CaseEvent.Kind.DISCHARGE_READY_WITHDRAWN,
    CaseEvent.Kind.ADMISSION_NOTICE_REJECTED,
    CaseEvent.Kind.DIED,
    CaseEvent.Kind.CANCELLED,
    CaseEvent.Kind.NOTICE_CANCELLED,
}


def base_url() -> str:
    return getattr(settings, "BRYGGA_BASE_URL", "http://127.0.0.1:8000").rstrip("/")


def next_digest(after: dt.datetime, hours: list[int]) -> dt.datetime:
    """The first digest time strictly after ``after`` (local time), at one of ``hours``."""
    local = timezone.localtime(after)
    hours = hours or [7]
    for days in range(0, 2):
        day = local.date() + dt.timedelta(days=days)
        for hour in hours:
            at = timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))
            if at > local:
                return at
    return timezone.make_aware(dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(hours[0])))


class _Recipient(NamedTuple):
    """A user to notify for a unit: the id and e-mail address of the user, and the user's preference for
    the unit (None: the defaults)."""

    user_id: int
    email: str
    pref: NotificationPreference | None


def _recipients_by_unit(unit_ids: list[int], now: dt.datetime | None = None) -> dict[int, list[_Recipient]]:
    """Per unit, its users who may read its cases today, with their preference. Two queries, however many
    units, each compiled once per process and step of ten units (ADR 0707): they run after every event a user
    records (issue 17). The members are read as values, not instances: a busy contact point has dozens of
    users on every event of its cases, and three model instances each were most of a message's Python."""
    now = now or timezone.now()
    members = statements.reused_in(
        "notify_members",
        lambda ids: (
            # Membership.is_valid_on in the statement: within its dates today, at a unit still active.
            Membership.objects.filter(
                unit_id__in=ids,
                unit__is_active=True,
                user__is_active=True,
                valid_from__lte=statements.day(now),
            )
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=statements.day(now)))
            .exclude(user__is_service_account=True)
            .order_by("unit_id", "user_id", "pk")
            .values_list("unit_id", "user_id", "role", "user__email")
        ),
        unit_ids,
        now,
    )
    prefs = {
        (p.unit_id, p.user_id): p
        for p in statements.reused_in(
            "notify_preferences", lambda ids: NotificationPreference.objects.filter(unit_id__in=ids), unit_ids
        )
    }
    seen: set[tuple[int, int]] = set()
    found: dict[int, list[_Recipient]] = defaultdict(list)
    for unit_id, user_id, role, email in members:
        if (unit_id, user_id) in seen or not role_has(role, Perm.CASE_READ):  # Membership.allows
            continue
        seen.add((unit_id, user_id))
        found[unit_id].append(_Recipient(user_id, email, prefs.get((unit_id, user_id))))
    return found


def _recipients(unit: Unit) -> list[_Recipient]:
    """The unit's users who may read its cases today, with their preference (None: the defaults)."""
    return _recipients_by_unit([unit.pk]).get(unit.pk, [])


def _rows(
    unit_id: int,
    recipients: list[_Recipient],
    source: str,
    subject: str,
    link: str,
    urgent: bool,
    now: dt.datetime,
) -> list[Notification]:
    """The unsaved notifications for one source and unit: one per user and channel the user wants."""
    rows = []
    for user_id, email, pref in recipients:
        channels = []
        if (pref is None or pref.email) and email:
            channels.append((Notification.Channel.EMAIL, email))
        if pref is not None and pref.sms and pref.phone:
            channels.append((Notification.Channel.SMS, pref.phone))
        hours = pref.hours if pref is not None else [7, 13]
        for channel, address in channels:
            rows.append(
                Notification(
                    user_id=user_id,
                    unit_id=unit_id,
                    channel=channel,
                    address=address,
                    urgent=urgent,
                    subject=subject,
                    link=link,
                    source=source,
                    next_attempt_at=now if urgent else next_digest(now, hours),
                    created_at=now,
                )
            )
    return rows


def _queue(
    unit: Unit, source: str, subject: str, link: str, urgent: bool, now: dt.datetime
) -> list[Notification]:
    made = []
    for row in _rows(unit.pk, _recipients(unit), source, subject, link, urgent, now):
        try:
            with transaction.atomic():
                row.save(force_insert=True)
                made.append(row)
        except IntegrityError:  # already queued for this source: a retry, nothing to add
            continue
    return made


def _subject(event: CaseEvent, unit_name: str) -> str:
    return _("brygga: %(what)s i ett ärende för %(unit)s") % {
        "what": event.get_kind_display().lower(),
        "unit": unit_name,
    }


def notify_case_event(event: CaseEvent, now: dt.datetime | None = None) -> int:
    """Queue notifications for every other active unit of the event's case; returns the number of rows
    offered. The set-based path of the batch ingest: one query for the participants, two for their users and
    preferences, one insert (a row already queued for the source, a retry, is skipped by the database). Each
    row in its own savepoint, as before, cost a round trip per user of a busy contact point on every event
    (issue 17/19: most of an admission notice's time on the 1,000,000-case set)."""
    return notify_case_events([event], now)


def on_case_event(sender: Any, instance: CaseEvent, created: bool, raw: bool = False, **kwargs: Any) -> None:
    """post_save of a CaseEvent: notify after the service's transaction commits (nothing for a rollback)."""
    if created and not raw and instance.kind not in SILENT:
        transaction.on_commit(lambda: notify_case_event(instance))


def notify_case_events(events: list[CaseEvent], now: dt.datetime | None = None) -> int:
    """The set-based notify_case_event for a batch (``POST /api/v1/cases/batch``): the same notifications —
    every user of every other active unit of each event's case, urgent by the same rules — from one query for
    the participants, two for their users and preferences and one insert, however many events. A row already
    queued for its source (a retry) is skipped by the database. Returns the number of rows offered."""
    events = [e for e in events if e.kind not in SILENT and e.pk is not None]
    if not events:
        return 0
    now = now or timezone.now()
    participants: dict[int, list[Participant]] = defaultdict(list)
    for p in statements.reused_in(  # compiled once per process and step of ten cases (ADR 0707)
        "notify_participants",
        lambda ids: (
            Participant.objects.filter(case_id__in=ids, status=Participant.Status.ACTIVE)
            .select_related("unit")
            .order_by("pk")
        ),
        sorted({e.case_id for e in events}),
    ):
        participants[p.case_id].append(p)
    users = _recipients_by_unit(sorted({p.unit_id for ps in participants.values() for p in ps}), now)
    rows: list[Notification] = []
    for event in events:
        link = base_url() + reverse("cases:detail", args=[event.case_id])
        for p in participants[event.case_id]:
            if p.unit_id == event.unit_id:
                continue
            due_soon = p.next_due_at is not None and p.next_due_at < now + rules.DUE_SOON
            urgent = event.kind in URGENT or due_soon
            source = f"case_event:{event.pk}"
            rows += _rows(
                p.unit_id, users.get(p.unit_id, []), source, _subject(event, p.unit.name), link, urgent, now
            )
    made = Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if made:
        transaction.on_commit(_enqueue_delivery)
    return len(made)


def on_events_recorded(sender: Any, events: list[CaseEvent], bulk: bool = False, **kwargs: Any) -> None:
    """events_recorded from the batch ingest (``bulk=True``: written with bulk_create, so no post_save):
    notify after its transaction commits. A single service event is notified through post_save."""
    if bulk and any(e.kind not in SILENT for e in events):
        transaction.on_commit(lambda: notify_case_events(events))


def notify_escalations(now: dt.datetime | None = None) -> list[Notification]:
    """Rows left unacknowledged past the deadline (ADR 0103): one urgent notification per row and day."""
    now = now or timezone.now()
    made: list[Notification] = []
    rows = Participant.objects.filter(
        status=Participant.Status.ACTIVE,
        needs_ack=True,
        unacked_since__lt=now - rules.acknowledgement_deadline(),
        case_status__in=[Case.Status.ADMITTED, Case.Status.ON_LEAVE],
    ).select_related("unit")
    for p in rows:
        subject = _("brygga: ett ärende för %(unit)s är okvitterat för länge") % {"unit": p.unit.name}
        link = base_url() + reverse("cases:detail", args=[p.case_id])
        source = f"escalation:{p.pk}:{timezone.localdate(now).isoformat()}"
        made += _queue(p.unit, source, subject, link, True, now)
    return made


def _enqueue_delivery() -> None:
    from brygga.receiving.tasks import deliver_notifications

    try:
        deliver_notifications.enqueue()
    except Exception:  # the cron sweep (manage.py deliver_notifications) delivers it later
        log.exception("could not enqueue notification delivery")


def _body(items: list[Notification]) -> str:
    lines = [_("Det finns nytt i brygga för er enhet. Logga in för att läsa:"), ""]
    lines += [f"- {n.subject.removeprefix('brygga: ')}\n  {n.link}" for n in items]
    lines += [
        "",
        _("Meddelandet innehåller inga personuppgifter. Avsluta aviseringar under Mina aviseringar."),
    ]
    return "\n".join(lines)


def _send(channel: str, address: str, items: list[Notification]) -> None:
    if channel == Notification.Channel.SMS:
        text = items[0].subject if len(items) == 1 else _("brygga: %(n)s nya händelser") % {"n": len(items)}
        sms_adapter().send(address, f"{text} {items[0].link}")
        return
    subject = (
        items[0].subject
        if len(items) == 1
        else _("brygga: sammanfattning, %(n)s nya händelser") % {"n": len(items)}
    )
    send_mail(subject, _body(items), None, [address], fail_silently=False)


def deliver_due(now: dt.datetime | None = None) -> dict[str, int]:
    """Send every notification that is due: urgent ones one by one, the rest as one digest per user and
    channel. A failure is retried with backoff; after MAX_ATTEMPTS the row is ``failed``."""
    now = now or timezone.now()
    due = list(
        Notification.objects.filter(status=Notification.Status.PENDING, next_attempt_at__lte=now).order_by(
            "created_at", "id"
        )
    )
    batches: dict[tuple[Any, ...], list[Notification]] = defaultdict(list)
    for n in due:
        key = (n.pk,) if n.urgent else ("digest", n.user_id, n.channel, n.address)
        batches[key].append(n)
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for items in batches.values():
        ids = [n.pk for n in items]
        try:
            _send(items[0].channel, items[0].address, items)
        except Exception as exc:  # noqa: BLE001 — any transport error: keep the row, try again later
            attempts = items[0].attempts + 1
            failed = attempts >= MAX_ATTEMPTS
            Notification.objects.filter(pk__in=ids).update(
                attempts=attempts,
                last_error=str(exc)[:500],
                status=Notification.Status.FAILED if failed else Notification.Status.PENDING,
                next_attempt_at=now + dt.timedelta(minutes=2 ** (attempts - 1)),
            )
            counts["failed" if failed else "retry"] += len(ids)
            log.warning("notification delivery failed (%s attempts): %s", attempts, exc)
            continue
        Notification.objects.filter(pk__in=ids).update(
            status=Notification.Status.SENT, sent_at=now, attempts=items[0].attempts + 1, last_error=""
        )
        counts["sent"] += len(ids)
    return counts


def retention_days() -> int:
    days = getattr(settings, "BRYGGA_NOTIFICATION_RETENTION_DAYS", 30)
    if not isinstance(days, int) or days < 1:
        raise ImproperlyConfigured("BRYGGA_NOTIFICATION_RETENTION_DAYS must be a whole number of days ≥ 1")
    return days


def prune_notifications(now: dt.datetime | None = None) -> dict[str, int]:
    """Delete what has done its job (ADR 0907): notifications delivered more than
    ``BRYGGA_NOTIFICATION_RETENTION_DAYS`` ago and the local SMS adapter's record of the same age. Pending
    and failed notifications stay (the administrator sees the failed ones in the admin). Set-based: one
    DELETE per table. Idempotent."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=retention_days())
    notifications, _by_model = Notification.objects.filter(
        status=Notification.Status.SENT, sent_at__lt=cutoff
    ).delete()
    sms, _by_model = SentSms.objects.filter(sent_at__lt=cutoff).delete()
    if notifications or sms:
        log.info("Pruned %s notifications and %s SMS records sent before %s", notifications, sms, cutoff)
    return {"notifications": notifications, "sms": sms}
