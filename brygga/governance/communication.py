"""Service communication: disruption notices and release notes, published to a public page, an Atom feed
and e-mail subscribers (Django's mail backend; the console backend in the demo).

- R-COM-1  A notice has a title and a text; a disruption has a start time; an end is not before the start.
- R-COM-2  A release note links to the cases it delivers, and only to decided or implemented ones.
- R-COM-3  A notice is published once; publishing mails each matching subscriber once.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable

from django.core.mail import send_mass_mail
from django.db import transaction
from django.urls import reverse
from django.utils import feedgenerator, timezone
from django.utils.translation import gettext as _

from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError, Problem
from brygga.governance.models import (
    CaseState,
    GovernanceCase,
    ManagedObject,
    NoticeSubscription,
    ServiceNotice,
)

DELIVERED = {CaseState.DECIDED, CaseState.IMPLEMENTATION, CaseState.DONE}


def draft_notice(
    actor: Actor,
    kind: str,
    title: str,
    body: str,
    *,
    managed_object: ManagedObject | None = None,
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    cases: Iterable[GovernanceCase] = (),
) -> ServiceNotice:
    actor.require(Perm.GOVERNANCE_MANAGE)
    cases = list(cases)
    problems: list[Problem] = []
    if kind not in ServiceNotice.Kind.values:
        problems.append(Problem("kind", "R-COM-1", _("Välj typ av information.")))
    if not title.strip():
        problems.append(Problem("title", "R-COM-1", _("Ange en rubrik.")))
    if not body.strip():
        problems.append(Problem("body", "R-COM-1", _("Skriv vad som gäller.")))
    if kind == ServiceNotice.Kind.DISRUPTION and starts_at is None:
        problems.append(Problem("starts_at", "R-COM-1", _("Ange när störningen började.")))
    if starts_at and ends_at and ends_at < starts_at:
        problems.append(Problem("ends_at", "R-COM-1", _("Sluttiden är före starttiden.")))
    if kind == ServiceNotice.Kind.RELEASE:
        if not cases:
            problems.append(Problem("cases", "R-COM-2", _("Länka nyheterna till de ärenden som genomförts.")))
        for case in cases:
            if case.state not in DELIVERED:
                problems.append(
                    Problem("cases", "R-COM-2", _("%s är inte beslutat eller genomfört.") % case.number)
                )
    if problems:
        raise DomainError(problems)
    with transaction.atomic():
        notice = ServiceNotice.objects.create(
            kind=kind,
            title=title.strip(),
            body=body.strip(),
            managed_object=managed_object,
            starts_at=starts_at,
            ends_at=ends_at,
        )
        notice.cases.set(cases)
    return notice


def publish_notice(actor: Actor, notice: ServiceNotice, base_url: str = "") -> ServiceNotice:
    """Publish and mail every subscriber of the notice's kind once (R-COM-3)."""
    actor.require(Perm.GOVERNANCE_MANAGE)
    with transaction.atomic():
        notice = ServiceNotice.objects.select_for_update().get(pk=notice.pk)
        if notice.published_at:
            raise DomainError.single("notice", "R-COM-3", _("Informationen är redan publicerad."))
        notice.published_at = timezone.now()
        notice.published_by = actor.user
        subscribers = [s for s in NoticeSubscription.objects.all() if notice.kind in s.kind_list]
        messages = []
        for s in subscribers:
            unsubscribe = base_url + reverse("governance:unsubscribe", args=[s.token])
            messages.append(
                (
                    f"[{notice.get_kind_display()}] {notice.title}",
                    f"{notice.body}\n\n{_('Avsluta prenumerationen')}: {unsubscribe}",
                    None,
                    [s.email],
                )
            )
        notice.mailed_count = len(messages)
        notice.save(update_fields=["published_at", "published_by", "mailed_count"])
        if messages:
            transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=False))
    return notice


def subscribe(email: str, kinds: Iterable[str]) -> NoticeSubscription:
    kinds = [k for k in kinds if k in ServiceNotice.Kind.values]
    if not kinds:
        raise DomainError.single("kinds", "R-COM-3", _("Välj minst en typ av information."))
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    try:
        validate_email(email.strip())
    except ValidationError:
        raise DomainError.single("email", "R-COM-3", _("Ange en giltig e-postadress.")) from None
    subscription, _created = NoticeSubscription.objects.update_or_create(
        email=email.strip().lower(),
        defaults={"kinds": ",".join(sorted(set(kinds)))},
        create_defaults={"kinds": ",".join(sorted(set(kinds))), "token": secrets.token_urlsafe(32)},
    )
    return subscription


def unsubscribe(token: str) -> bool:
    deleted, _rows = NoticeSubscription.objects.filter(token=token).delete()
    return deleted > 0


def atom_feed(base_url: str) -> str:
    feed = feedgenerator.Atom1Feed(
        title=_("brygga: driftinformation och nyheter"),
        link=base_url + reverse("governance:notices"),
        description=_("Driftstörningar, planerat underhåll och nyheter i den gemensamma IT-tjänsten."),
        language="sv",
        feed_url=base_url + reverse("governance:notices_feed"),
    )
    for notice in ServiceNotice.objects.filter(published_at__isnull=False).prefetch_related("cases")[:50]:
        changes = "".join(f"\n- {c.number} {c.title}" for c in notice.cases.all())
        feed.add_item(
            title=f"{notice.get_kind_display()}: {notice.title}",
            link=base_url + reverse("governance:notices") + f"#notis-{notice.pk}",
            description=notice.body + (("\n" + _("Ändringar:") + changes) if changes else ""),
            pubdate=notice.published_at,
            unique_id=f"brygga-notice-{notice.pk}",
            categories=[notice.kind],
        )
    return feed.writeString("utf-8")
