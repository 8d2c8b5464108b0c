"""Reading cases: deadlines, the status header and the case's part of the unit inbox (its source and one page
of the unit's cases for the API; the unified inbox with SIPs and care requests is ``brygga.inbox``).
Everything here is derived from the structured state on Case and Participant, so nobody has to read a thread
to know where a case stands."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from django.core.paginator import Page, Paginator
from django.db.models import Case as DbCase
from django.db.models import DateTimeField, F, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _l

from brygga.access.services import log_list_access
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.cases import rules
from brygga.cases.models import Case, CaseEvent, Participant
from brygga.core import inbox, statements
from brygga.organisations.models import Unit


@dataclass
class Deadline:
    label: str | Promise  # one of the lazy labels below, translated where it is shown
    rule: str
    due_at: dt.datetime
    done: bool = False
    role: str = ""  # the kind of unit that must meet it (Participant.Role)

    def state(self, now: dt.datetime) -> str:
        if self.done:
            return "done"
        if now > self.due_at:
            return "overdue"
        if now > self.due_at - rules.DUE_SOON:
            return "due_soon"
        return "pending"


_END_OF_DAY = dt.time(23, 59, 59)


def _end_of_day(day: dt.date, tz: dt.tzinfo | None = None) -> dt.datetime:
    """The last second of ``day`` in ``tz`` (the current time zone if none). ``make_aware`` does the same with
    the current zone, and Django reads that zone from an asgiref ``Local`` at about 9 µs a read: an inbox page
    read it 260 times (issue 17), so a caller with many cases passes it in."""
    return dt.datetime.combine(day, _END_OF_DAY, tzinfo=tz or timezone.get_current_timezone())


# Lazy and built once: ``deadlines`` runs for each of the 50 rows of an inbox page, and translating its labels
# each time was 150 translation look-ups a page (issue 17); the inbox's presenter translates each label once.
NOTICE_LABEL = _l("Inskrivningsmeddelande")
SIP_SUMMONS_LABEL = _l("Kallelse till SIP")
COORDINATOR_LABEL = _l("Fast vårdkontakt före utskrivning")
DISCHARGE_INFO_LABEL = _l("Information vid utskrivning")


class CaseDates(Protocol):
    """What ``deadlines`` reads of a case: a ``Case``, or the inbox's plain row of one
    (``brygga.inbox.selectors.RowCase``)."""

    @property
    def status(self) -> str: ...
    @property
    def admitted_at(self) -> dt.datetime: ...
    @property
    def need_assessed_at(self) -> dt.datetime | None: ...
    @property
    def notice_due_at(self) -> dt.datetime | None: ...
    @property
    def notice_sent_at(self) -> dt.datetime | None: ...
    @property
    def sip_summons_due_at(self) -> dt.datetime | None: ...
    @property
    def sip_summons_sent_at(self) -> dt.datetime | None: ...
    @property
    def expected_discharge_date(self) -> dt.date | None: ...
    @property
    def coordinator_name(self) -> str: ...
    @property
    def discharge_info_sent_at(self) -> dt.datetime | None: ...


def deadlines(case: CaseDates, role: str | None = None, tz: dt.tzinfo | None = None) -> list[Deadline]:
    """The open and met deadlines of the case; ``role`` limits them to what that kind of unit must do. ``tz``:
    the current time zone, read once by a caller with many cases (``_end_of_day``)."""
    found: list[Deadline] = []
    open_case = case.status in (Case.Status.ADMITTED, Case.Status.ON_LEAVE)
    if role in (None, Participant.Role.WARD) and case.notice_due_at is not None:
        found.append(
            Deadline(
                NOTICE_LABEL,
                rules.notice_rule(case.admitted_at, case.need_assessed_at),
                case.notice_due_at,
                done=case.notice_sent_at is not None,
                role=Participant.Role.WARD,
            )
        )
    if role in (None, Participant.Role.PRIMARY_CARE):
        if case.sip_summons_due_at is not None:
            found.append(
                Deadline(
                    SIP_SUMMONS_LABEL,
                    "R-SIP-K-1",
                    case.sip_summons_due_at,
                    done=case.sip_summons_sent_at is not None,
                    role=Participant.Role.PRIMARY_CARE,
                )
            )
        if case.expected_discharge_date and case.notice_sent_at and open_case:
            found.append(
                Deadline(
                    COORDINATOR_LABEL,
                    "R-FVK-1",
                    _end_of_day(case.expected_discharge_date, tz),
                    done=bool(case.coordinator_name),
                    role=Participant.Role.PRIMARY_CARE,
                )
            )
    if role in (None, Participant.Role.WARD) and case.expected_discharge_date and open_case:
        found.append(
            Deadline(
                DISCHARGE_INFO_LABEL,
                "R-UTS-1",
                _end_of_day(case.expected_discharge_date, tz),
                done=case.discharge_info_sent_at is not None,
                role=Participant.Role.WARD,
            )
        )
    return found


def status_header(
    case: Case,
    now: dt.datetime | None = None,
    events: list[CaseEvent] | None = None,
    meetings: list[Any] | None = None,
) -> dict[str, Any]:
    """The status line at the top of a case, built from structured state. ``events`` and ``meetings``: the
    case's, when the caller has read them already (the case page), so they are not read again."""
    now = now or timezone.now()
    dls = deadlines(case)
    if meetings is None:
        meeting = case.meetings.filter(starts_at__gte=now).order_by("starts_at").first()
    else:
        meeting = min((m for m in meetings if m.starts_at >= now), key=lambda m: m.starts_at, default=None)
    if events is None:
        date_changes = case.events.filter(kind=CaseEvent.Kind.EXPECTED_DATE_CHANGED).count()
    else:
        date_changes = sum(1 for e in events if e.kind == CaseEvent.Kind.EXPECTED_DATE_CHANGED)
    return {
        "status": case.get_status_display(),
        "status_code": case.status,
        "admitted_at": case.admitted_at,
        "expected_discharge_date": case.expected_discharge_date,
        "expected_date_changes": date_changes,
        "discharge_ready_at": case.discharge_ready_at,
        "notice_sent_at": case.notice_sent_at,
        "notice_late": case.notice_late,
        "coordinator": case.coordinator_name,
        "next_meeting": meeting,
        "sip_needed": case.sip_needed,
        "deadlines": [{"deadline": d, "state": d.state(now)} for d in dls],
        "overdue": [d for d in dls if d.state(now) == "overdue"],
    }


PAGE_SIZE = 50
OPEN_STATUSES = [Case.Status.ADMITTED, Case.Status.ON_LEAVE]


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
    if digits.isdecimal():
        return lambda prefix: Q(**{f"{prefix}identifier__contains": digits})
    return lambda prefix: (
        (Q(**{f"{prefix}family_name__icontains": q}) | Q(**{f"{prefix}given_name__icontains": q}))
        & Q(**{f"{prefix}protected_identity": False})
    )


def case_source(
    actor: Actor, status: str, search: Callable[[str], Q] | None, now: dt.datetime
) -> QuerySet[Any]:
    qs = unit_participations(actor).filter(FILTERS.get(status, FILTERS["open"]))
    if search is not None:
        qs = qs.filter(search("case__person__"))
    # The clock's values as ``at_run`` values: the inbox compiles this once per unit and view (ADR 0704).
    tier = DbCase(
        When(
            Q(next_due_at__lt=statements.moment(now))
            | Q(
                needs_ack=True,
                unacked_since__lt=statements.at_run(
                    now, lambda n: n - rules.acknowledgement_deadline(), DateTimeField()
                ),
            ),
            then=0,
        ),
        When(next_due_at__lt=statements.moment(now, rules.DUE_SOON), then=1),
        When((Q(acknowledged_at__isnull=True) & ~Q(role=Participant.Role.WARD)) | Q(needs_ack=True), then=2),
        default=Value(3),
        output_field=IntegerField(),
    )
    return inbox.columns(qs, "case", tier, F("next_due_at"), F("last_event_at"), status == "urgent")


def case_page(
    actor: Actor, status: str = "open", q: str = "", page: int | str | None = 1, per_page: int = PAGE_SIZE
) -> Page:
    """One page of the active unit's discharge cases in inbox order (``page.object_list`` holds the cases);
    the persons on the page are logged as one list read, as on the inbox."""
    now = timezone.now()
    status = status if status in FILTERS else "open"
    parts = []
    if actor.can(Perm.CASE_READ) and actor.unit is not None:
        parts.append(case_source(actor, status, person_search(q), now))
    paginator = Paginator(inbox.combine(parts, Participant.objects.none()), per_page)
    result = paginator.get_page(page)
    rows = [e["ib_row"] for e in result.object_list]
    found = {
        p.pk: p.case
        for p in Participant.objects.filter(pk__in=rows).select_related(
            "case__person__registered_municipality",
            "case__person__listed_unit",
            "case__ward",
            "case__site",
            "case__municipality",
        )
    }
    cases = [found[pk] for pk in rows if pk in found]
    log_list_access(
        actor,
        {c.person.pk: c.person for c in cases}.values(),
        f"inkorg:{actor.unit.pk if actor.unit else ''}",
    )
    result.object_list = cases
    return result


# --- for the API: lookups behind the checked path ---------------------------------------------------------


def case_id_by_external_id(unit: Unit | None, external_id: str) -> int | None:
    """The id of the case the ward ``unit`` registered with its own ``external_id`` (the caller then opens it
    through ``services.open_case``, which checks need-to-know and logs the read)."""
    if unit is None:
        return None
    return Case.objects.filter(ward=unit, external_id=external_id).values_list("pk", flat=True).first()


def cases_for_answer(pks: list[int]) -> list[Case]:
    """The cases the caller has just opened or written, with everything an API answer shows, in two
    statements (no N+1). Only for ids that went through the checked path in this request."""
    return list(
        Case.objects.select_related(
            "person__registered_municipality", "person__listed_unit", "ward", "site", "municipality"
        )
        .prefetch_related(Prefetch("participants", queryset=Participant.objects.select_related("unit")))
        .filter(pk__in=pks)
    )


def case_for_answer(pk: int) -> Case:
    """A case the caller has just opened or written, with its ward and person (the FHIR Encounter)."""
    return Case.objects.select_related("ward", "person").get(pk=pk)


def cases_by_id(pks: set[int]) -> dict[int, Case]:
    """Cases with their persons by id, for rows the caller found through the unit's own cases
    (``services.unit_cases``)."""
    return {c.pk: c for c in Case.objects.filter(pk__in=pks).select_related("person")}
