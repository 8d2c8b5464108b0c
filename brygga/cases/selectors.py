"""Reading cases: deadlines, the status header and the unit inboxes. Everything here is derived from the
structured state on Case and Participant, so nobody has to read a thread to know where a case stands."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Case as DbCase
from django.db.models import Count, F, IntegerField, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from brygga.access.services import log_list_access
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.cases import rules
from brygga.cases.models import Case, Participant
from brygga.people.models import Person
from brygga.people.presenters import display_identifier, display_name
from brygga.sip import selectors as sip_selectors
from brygga.sip.models import SipParticipant
from brygga.sip.selectors import InboxItem


@dataclass
class Deadline:
    label: str
    rule: str
    due_at: dt.datetime
    done: bool = False

    def state(self, now: dt.datetime) -> str:
        if self.done:
            return "done"
        if now > self.due_at:
            return "overdue"
        if now > self.due_at - rules.DUE_SOON:
            return "due_soon"
        return "pending"


def _end_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)))


def deadlines(case: Case, role: str | None = None) -> list[Deadline]:
    """The open and met deadlines of the case; ``role`` limits them to what that kind of unit must do."""
    found: list[Deadline] = []
    open_case = case.status in (Case.Status.ADMITTED, Case.Status.ON_LEAVE)
    if role in (None, Participant.Role.WARD) and case.notice_due_at is not None:
        found.append(
            Deadline(
                _("Inskrivningsmeddelande"),
                "R-INS-2" if case.need_assessed_at == case.admitted_at else "R-INS-3",
                case.notice_due_at,
                done=case.notice_sent_at is not None,
            )
        )
    if role in (None, Participant.Role.PRIMARY_CARE):
        if case.sip_summons_due_at is not None:
            found.append(
                Deadline(
                    _("Kallelse till SIP"),
                    "R-SIP-K-1",
                    case.sip_summons_due_at,
                    done=case.sip_summons_sent_at is not None,
                )
            )
        if case.expected_discharge_date and case.notice_sent_at and open_case:
            found.append(
                Deadline(
                    _("Fast vårdkontakt före utskrivning"),
                    "R-FVK-1",
                    _end_of_day(case.expected_discharge_date),
                    done=bool(case.coordinator_name),
                )
            )
    if role in (None, Participant.Role.WARD) and case.expected_discharge_date and open_case:
        found.append(
            Deadline(
                _("Information vid utskrivning"),
                "R-UTS-1",
                _end_of_day(case.expected_discharge_date),
                done=case.discharge_info_sent_at is not None,
            )
        )
    return found


def status_header(case: Case, now: dt.datetime | None = None) -> dict[str, Any]:
    """The status line at the top of a case, built from structured state."""
    now = now or timezone.now()
    dls = deadlines(case)
    meeting = case.meetings.filter(starts_at__gte=now).order_by("starts_at").first()
    return {
        "status": case.get_status_display(),
        "status_code": case.status,
        "admitted_at": case.admitted_at,
        "expected_discharge_date": case.expected_discharge_date,
        "expected_date_changes": case.events.filter(kind="expected_date_changed").count(),
        "discharge_ready_at": case.discharge_ready_at,
        "notice_sent_at": case.notice_sent_at,
        "notice_late": case.notice_late,
        "coordinator": case.coordinator_name,
        "next_meeting": meeting,
        "sip_needed": case.sip_needed,
        "deadlines": [{"deadline": d, "state": d.state(now)} for d in dls],
        "overdue": [d for d in dls if d.state(now) == "overdue"],
    }


KINDS = {"case": _l("Utskrivning"), "sip": _l("SIP"), "care_request": _l("Vårdbegäran")}
PAGE_SIZE = 50
OPEN_STATUSES = [Case.Status.ADMITTED, Case.Status.ON_LEAVE]


@dataclass
class InboxRow:
    """One row of the unit inbox: a discharge case (``participant``/``case`` with its deadlines) or a SIP or
    care request (``item``, from brygga.sip.selectors). ``tier`` is the database's ordering state (0 overdue
    or escalated, 1 due soon, 2 new or unacknowledged, 3 the rest); name and identifier come from the
    presenters that mask protected identity."""

    kind: str
    person: Person
    name: str
    identifier: str
    url: str
    tier: int = 3
    participant: Participant | None = None
    case: Case | None = None
    deadlines: list[tuple[Deadline, str]] = field(default_factory=list)
    escalated: bool = False
    new: bool = False
    item: InboxItem | None = None
    sip_participant: SipParticipant | None = None

    @property
    def kind_label(self) -> str:
        return str(KINDS[self.kind])

    @property
    def needs_ack(self) -> bool:
        if self.participant is not None:
            return self.participant.needs_ack
        return self.sip_participant is not None and self.sip_participant.acknowledged_at is None

    @property
    def priority(self) -> int:
        """The row's state computed in Python from what is shown (the database orders by ``tier``; the two
        agree while ``Participant.next_due_at`` is in step)."""
        if self.item is not None:
            return min(self.item.priority, 3)
        states = {s for _d, s in self.deadlines}
        if self.escalated or "overdue" in states:
            return 0
        if "due_soon" in states:
            return 1
        if self.new or (self.participant is not None and self.participant.needs_ack):
            return 2
        return 3


# Case filters on the participant row's copy of the case status (ADR 0105). SIPs and care requests are
# "under way" items: they are shown with Pågående, Försenade och snart förfallna, Okvitterade and Alla.
FILTERS = {
    "open": Q(case_status__in=OPEN_STATUSES),
    "urgent": Q(case_status__in=OPEN_STATUSES),
    "discharged": Q(case_status=Case.Status.DISCHARGED),
    "closed": Q(case_status__in=[Case.Status.CLOSED, Case.Status.CANCELLED, Case.Status.DIED]),
    "unacknowledged": Q(needs_ack=True),
    "all": Q(),
}
WITH_SIP_ITEMS = {"open", "urgent", "unacknowledged", "all"}


def unit_participations(actor: Actor) -> QuerySet[Participant]:
    if not actor.can(Perm.CASE_READ) or actor.unit is None:
        return Participant.objects.none()
    return Participant.objects.filter(unit=actor.unit, status=Participant.Status.ACTIVE)


def next_due_at(case: Case, role: str) -> dt.datetime | None:
    """The earliest open deadline of what a unit in ``role`` must do in the case (kept on the participant row
    as ``next_due_at`` by brygga.cases.services.keep_inbox_in_step)."""
    return min((d.due_at for d in deadlines(case, role) if not d.done), default=None)


def person_search(q: str) -> Callable[[str], Q] | None:
    """A search on personnummer (digits, with or without the dash) or name, for a path prefix to the person.
    Names of protected persons are never searchable: a match would confirm the name."""
    q = q.strip()
    if not q:
        return None
    digits = q.replace("-", "")
    if digits.isdigit():
        return lambda prefix: Q(**{f"{prefix}identifier__contains": digits})
    return lambda prefix: (
        (Q(**{f"{prefix}family_name__icontains": q}) | Q(**{f"{prefix}given_name__icontains": q}))
        & Q(**{f"{prefix}protected_identity": False})
    )


def _case_source(
    actor: Actor, status: str, search: Callable[[str], Q] | None, now: dt.datetime
) -> QuerySet[Any]:
    qs = unit_participations(actor).filter(FILTERS.get(status, FILTERS["open"]))
    if search is not None:
        qs = qs.filter(search("case__person__"))
    tier = DbCase(
        When(
            Q(next_due_at__lt=now)
            | Q(needs_ack=True, unacked_since__lt=now - rules.acknowledgement_deadline()),
            then=0,
        ),
        When(next_due_at__lt=now + rules.DUE_SOON, then=1),
        When((Q(acknowledged_at__isnull=True) & ~Q(role=Participant.Role.WARD)) | Q(needs_ack=True), then=2),
        default=Value(3),
        output_field=IntegerField(),
    )
    return sip_selectors._columns(qs, "case", tier, F("next_due_at"), F("last_event_at"), status == "urgent")


def inbox_source(
    actor: Actor, status: str = "open", q: str = "", kind: str = "", now: dt.datetime | None = None
) -> QuerySet[Any]:
    """The active unit's inbox as one ordered queryset of (kind, row, tier, due, last event) — filtered,
    ordered and ready to be sliced in the database, for any number of rows."""
    now = now or timezone.now()
    status = status if status in FILTERS else "open"
    search = person_search(q)
    parts = []
    if kind in ("", "case") and actor.can(Perm.CASE_READ) and actor.unit is not None:
        parts.append(_case_source(actor, status, search, now))
    if status in WITH_SIP_ITEMS and actor.can(Perm.PERSON_READ) and actor.unit is not None:
        options = {
            "only_new": status == "unacknowledged",
            "only_urgent": status == "urgent",
            "search": search,
        }
        if kind in ("", "sip"):
            parts.append(sip_selectors.sip_inbox_source(actor.unit, now, **options))  # type: ignore[arg-type]
        if kind in ("", "care_request"):
            parts.append(
                sip_selectors.care_request_inbox_source(actor.unit, now, **options)  # type: ignore[arg-type]
            )
    return sip_selectors.combine(parts)


def inbox_rows(actor: Actor, entries: list[dict[str, Any]], now: dt.datetime) -> list[InboxRow]:
    """The rows for a page of inbox entries, in their order, with a bounded number of queries (one for the
    cases, two for the SIPs, one for the care requests), and the persons shown logged as one list read."""
    case_rows = [e["ib_row"] for e in entries if e["ib_kind"] == "case"]
    participants = {
        p.pk: p
        for p in Participant.objects.filter(pk__in=case_rows).select_related(
            "case__person__registered_municipality",
            "case__person__listed_unit",
            "case__ward",
            "case__site",
            "case__municipality",
        )
    }
    items = sip_selectors.items_for(actor.unit, now, entries) if actor.unit is not None else {}
    prefix = reverse("cases:inbox")  # reversed once, not per row
    rows = []
    for entry in entries:
        if entry["ib_kind"] == "case":
            p = participants.get(entry["ib_row"])
            if p is None:
                continue
            case = p.case
            dls = [(d, d.state(now)) for d in deadlines(case, p.role)]
            rows.append(
                InboxRow(
                    kind="case",
                    person=case.person,
                    name=display_name(case.person),
                    identifier=display_identifier(case.person),
                    url=f"{prefix}{case.pk}/",
                    tier=entry["ib_tier"],
                    participant=p,
                    case=case,
                    deadlines=[(d, s) for d, s in dls if s != "done"],
                    escalated=bool(
                        p.needs_ack
                        and p.unacked_since
                        and now > p.unacked_since + rules.acknowledgement_deadline()
                    ),
                    # New: a receiving unit has never acknowledged it (the sending ward made it).
                    new=p.acknowledged_at is None and p.role != Participant.Role.WARD,
                )
            )
        elif (entry["ib_kind"], entry["ib_row"]) in items:
            item, sip_participant = items[(entry["ib_kind"], entry["ib_row"])]
            rows.append(
                InboxRow(
                    kind=entry["ib_kind"],
                    person=item.person,
                    name=display_name(item.person),
                    identifier=display_identifier(item.person),
                    url=item.url,
                    tier=entry["ib_tier"],
                    item=item,
                    sip_participant=sip_participant,
                    new=item.state == "new",
                )
            )
    log_list_access(
        actor, {r.person.pk: r.person for r in rows}.values(), f"inkorg:{actor.unit.pk if actor.unit else ''}"
    )
    return rows


def inbox_page(
    actor: Actor,
    status: str = "open",
    q: str = "",
    kind: str = "",
    page: int | str | None = 1,
    per_page: int = PAGE_SIZE,
) -> Page:
    """One page of the active unit's inbox (discharge cases, SIPs and care requests): overdue and escalated
    first, then due soon, then new and unacknowledged, then the rest — ordered and paged in the database.
    ``page.object_list`` holds the ``InboxRow``s; only the persons on the page are access-logged."""
    now = timezone.now()
    paginator = Paginator(inbox_source(actor, status, q, kind, now), per_page)
    result = paginator.get_page(page)
    result.object_list = inbox_rows(actor, list(result.object_list), now)
    return result


def inbox(
    actor: Actor, status: str = "open", q: str = "", kind: str = "", limit: int = PAGE_SIZE
) -> list[InboxRow]:
    """The first ``limit`` rows of the active unit's inbox, in inbox order (see ``inbox_page``); logged."""
    now = timezone.now()
    entries = list(inbox_source(actor, status, q, kind, now)[:limit])
    return inbox_rows(actor, entries, now)


def inbox_summaries(actor: Actor) -> list[dict[str, Any]]:
    """Counts for every unit the user works in, for the top of the inbox: discharge cases, SIPs and care
    requests together. No personal data, so no log."""
    now = timezone.now()
    memberships = actor.user.memberships.select_related("unit").order_by("unit__name")
    summaries = []
    for membership in memberships:
        if not membership.allows(Perm.CASE_READ):
            continue
        unit = membership.unit
        counts = Participant.objects.filter(
            unit=unit, status=Participant.Status.ACTIVE, case_status__in=OPEN_STATUSES
        ).aggregate(
            open=Count("id"),
            unacknowledged=Count("id", filter=Q(needs_ack=True)),
            new=Count(
                "id", filter=Q(acknowledged_at__isnull=True, role__in=["municipality", "primary_care"])
            ),
            escalated=Count(
                "id",
                filter=Q(needs_ack=True, unacked_since__lt=now - rules.acknowledgement_deadline()),
            ),
            overdue=Count("id", filter=Q(next_due_at__lt=now)),
        )
        if membership.allows(Perm.PERSON_READ):
            for source in (sip_selectors.sip_inbox_source, sip_selectors.care_request_inbox_source):
                extra = source(unit, now).aggregate(  # type: ignore[operator]
                    open=Count("ib_row"),
                    new=Count("ib_row", filter=Q(ib_tier=2)),
                    overdue=Count("ib_row", filter=Q(ib_tier=0)),
                )
                for key, value in extra.items():
                    counts[key] += value
        summaries.append(
            {
                "membership": membership,
                "unit": unit,
                "active": actor.membership is not None and actor.membership.pk == membership.pk,
                **counts,
            }
        )
    return summaries
