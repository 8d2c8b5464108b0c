"""The unit inbox (ADR 0105): discharge cases, SIPs and care requests in one list, ordered and paged in the
database. It sits above the cases and SIP apps and combines their sources (``brygga.cases.selectors``,
``brygga.sip.selectors``) with the columns of ``brygga.core.inbox`` (ADR 0009)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _l

from brygga.access.services import log_list_access
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.cases import rules
from brygga.cases import selectors as case_selectors
from brygga.cases.models import Case, Participant
from brygga.core import statements
from brygga.core.inbox import INBOX_COLUMNS, INBOX_ORDER_SQL
from brygga.people.models import Person, formatted_identifier
from brygga.people.presenters import display_identifier, display_name
from brygga.sip import rules as sip_rules
from brygga.sip import selectors as sip_selectors
from brygga.sip.models import SipParticipant
from brygga.sip.selectors import InboxItem

KINDS = {"case": _l("Utskrivning"), "sip": _l("SIP"), "care_request": _l("Vårdbegäran")}


# A discharge-case row's participation, case and person as plain values, not model instances: Django built
# four instances a row (participant, case, person, ward), 200 a page, about 3.5 ms of the inbox's 30 (issue
# 17, docs/benchmarks.md). Each carries what a row shows, orders, logs and computes its deadlines from, and
# computes its properties through the same functions as the models (tests/test_inbox_rows.py compares them).


@dataclass(frozen=True, slots=True)
class RowPerson:
    """A row's person: name and identity number (masked by ``display_name`` for a protected identity)."""

    pk: int
    identifier: str
    id_kind: str
    given_name: str
    family_name: str
    protected_identity: bool

    @property
    def formatted_identifier(self) -> str:
        return formatted_identifier(self.identifier, self.id_kind)


_CASE_STATUS_LABELS = dict(Case._meta.get_field("status").flatchoices)


@dataclass(frozen=True, slots=True)
class RowCase:
    """A row's case: status, dates and what its deadlines read (``cases.selectors.deadlines``)."""

    pk: int
    person: RowPerson
    ward_name: str
    status: str
    admitted_at: dt.datetime
    need_assessed_at: dt.datetime | None
    expected_discharge_date: dt.date | None
    discharge_ready_at: dt.datetime | None
    notice_sent_at: dt.datetime | None
    sip_summons_due_at: dt.datetime | None
    sip_summons_sent_at: dt.datetime | None
    coordinator_name: str
    discharge_info_sent_at: dt.datetime | None
    last_event_at: dt.datetime | None

    @property
    def notice_due_at(self) -> dt.datetime | None:
        """As ``Case.notice_due_at`` (R-INS-2/3)."""
        return None if self.need_assessed_at is None else rules.notice_due_at(self.need_assessed_at)

    def get_status_display(self) -> Any:
        return _CASE_STATUS_LABELS.get(self.status, self.status)


@dataclass(frozen=True, slots=True)
class RowParticipant:
    """A row's participation of the active unit: its role and acknowledgement state."""

    pk: int
    role: str
    needs_ack: bool
    unacked_since: dt.datetime | None
    acknowledged_at: dt.datetime | None


# The columns of a row, in the order the three classes above take them.
ROW_COLUMNS = (
    "pk",
    "role",
    "needs_ack",
    "unacked_since",
    "acknowledged_at",
    "case_id",
    "case__ward__name",
    "case__status",
    "case__admitted_at",
    "case__need_assessed_at",
    "case__expected_discharge_date",
    "case__discharge_ready_at",
    "case__notice_sent_at",
    "case__sip_summons_due_at",
    "case__sip_summons_sent_at",
    "case__coordinator_name",
    "case__discharge_info_sent_at",
    "case__last_event_at",
    "case__person_id",
    "case__person__identifier",
    "case__person__id_kind",
    "case__person__given_name",
    "case__person__family_name",
    "case__person__protected_identity",
)


def _row_values(values: tuple[Any, ...]) -> tuple[RowParticipant, RowCase]:
    pk, role, needs_ack, unacked_since, acknowledged_at, case_id, ward_name, *case_values = values
    person = RowPerson(*case_values[11:])
    case = RowCase(case_id, person, ward_name or "", *case_values[:11])
    return RowParticipant(pk, role, needs_ack, unacked_since, acknowledged_at), case


@dataclass
class InboxRow:
    """One row of the unit inbox: a discharge case (``participant``/``case`` with its deadlines) or a SIP or
    care request (``item``, from brygga.sip.selectors). ``tier`` is the database's ordering state (0 overdue
    or escalated, 1 due soon, 2 new or unacknowledged, 3 the rest); name and identifier come from the
    presenters that mask protected identity."""

    kind: str
    person: Person | RowPerson
    name: str
    identifier: str
    url: str
    tier: int = 3
    participant: RowParticipant | None = None
    case: RowCase | None = None
    deadlines: list[tuple[case_selectors.Deadline, str]] = field(default_factory=list)
    # The case's other running deadlines (another unit's to meet), shown so a unit without deadlines of its
    # own (the municipality) still sees what the case is waiting for; they do not change the row's tier.
    case_deadlines: list[tuple[case_selectors.Deadline, str]] = field(default_factory=list)
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


WITH_SIP_ITEMS = {"open", "urgent", "unacknowledged", "all"}


def inbox_source(
    actor: Actor, status: str = "open", q: str = "", kind: str = "", now: dt.datetime | None = None
) -> QuerySet[Any]:
    """The active unit's inbox as one ordered queryset of (kind, row, tier, due, last event) — filtered,
    ordered and ready to be sliced in the database, for any number of rows."""
    now = now or timezone.now()
    status = status if status in case_selectors.FILTERS else "open"
    search = case_selectors.person_search(q)
    parts = []
    if kind in ("", "case") and actor.can(Perm.CASE_READ) and actor.unit is not None:
        parts.append(case_selectors.case_source(actor, status, search, now))
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
    # Only what a row shows and its deadlines read (``ROW_COLUMNS``), as plain values (``RowCase``): the
    # person's municipality and vårdcentral, the case's site and municipality and the other columns of the
    # three tables were read and built for every row and never shown (issue 17).
    # Compiled once per process and step of ten ids (ADR 0707): compiling it anew was the largest statement
    # compiled on every inbox view (issue 17).
    participants = {
        values[0]: _row_values(values)
        for values in statements.reused_in(
            "inbox_participants",
            lambda ids: Participant.objects.filter(pk__in=ids).values_list(*ROW_COLUMNS),
            case_rows,
        )
    }
    items = sip_selectors.items_for(actor.unit, now, entries) if actor.unit is not None else {}
    prefix = reverse("cases:inbox")  # reversed once, not per row
    tz = timezone.get_current_timezone()  # read once, not per deadline (cases.selectors._end_of_day)
    ack_deadline = rules.acknowledgement_deadline()
    rows = []
    for entry in entries:
        if entry["ib_kind"] == "case":
            found = participants.get(entry["ib_row"])
            if found is None:
                continue
            p, case = found
            # Every deadline of the case once, split into the unit's own (``deadlines(case, role)``) and the
            # others: computing them twice was a tenth of the rows' Python (issue 17).
            every = [(d, d.state(now)) for d in case_selectors.deadlines(case, tz=tz)]
            dls = [(d, s) for d, s in every if d.role == p.role]
            own = {(d.rule, d.due_at) for d, _s in dls}
            others = [(d, s) for d, s in every if (d.rule, d.due_at) not in own]
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
                    case_deadlines=[(d, s) for d, s in others if s != "done"],
                    escalated=bool(p.needs_ack and p.unacked_since and now > p.unacked_since + ack_deadline),
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
    per_page: int = case_selectors.PAGE_SIZE,
) -> Page:
    """One page of the active unit's inbox (discharge cases, SIPs and care requests): overdue and escalated
    first, then due soon, then new and unacknowledged, then the rest — ordered and paged in the database.
    ``page.object_list`` holds the ``InboxRow``s; only the persons on the page are access-logged."""
    result, now = inbox_entries_page(actor, status, q, kind, page, per_page)
    result.object_list = inbox_rows(actor, list(result.object_list), now)
    return result


def inbox_entries_page(
    actor: Actor,
    status: str = "open",
    q: str = "",
    kind: str = "",
    page: int | str | None = 1,
    per_page: int = case_selectors.PAGE_SIZE,
) -> tuple[Page, dt.datetime]:
    """One page of the inbox's column rows (kind, row, tier, due, last event) without building the rows:
    enough for ``list_signature``. Nothing personal is read, so nothing is logged; ``inbox_rows`` turns the
    page into rows (and logs them) when they are shown."""
    now = timezone.now()
    status = status if status in case_selectors.FILTERS else "open"
    try:
        number = int(page or 1)
    except (TypeError, ValueError):
        number = 1  # as Paginator.get_page: not a number → the first page
    statement = _list_statement(actor, status, q, kind, now)
    counted = (
        _counted_entries(statement, (number - 1) * per_page, per_page)
        if number >= 1 and statement is not None
        else None
    )
    if counted is None or (not counted[0] and number > 1):
        # Nothing to show on that page (past the end or before the start, or no source): the paginator counts
        # and picks the page over the ORM's source, as it always did; rare, so the second statement and the
        # source built anew cost the common case nothing.
        result = Paginator(inbox_source(actor, status, q, kind, now), per_page).get_page(page)
        result.object_list = list(result.object_list)
        return result, now
    entries, totals = counted
    # The page's rows are in hand: the paginator only numbers the pages (its list is never read).
    paginator = Paginator(list[Any](), per_page)
    paginator.count = totals["total"]  # type: ignore[misc]  # cached_property, set from the same statement
    result = paginator.page(number) if entries else paginator.get_page(1)
    result.object_list = entries
    # The active unit's SIP and care-request counts of the summaries, when the list counted exactly them
    # (the default view: open, every kind, no search); ``inbox_summaries`` then needs no statement of its own.
    if status == "open" and not q.strip() and kind == "" and actor.can(Perm.PERSON_READ):
        result.other_counts = {  # type: ignore[attr-defined]
            "open": totals["other"],
            "new": totals["other_new"],
            "overdue": totals["other_overdue"],
        }
    return result, now


def _settings_key() -> tuple[Any, ...]:
    """What the sources take from settings when they are built (the rest they read when they run)."""
    return (sip_rules.care_request_answer_deadline(),)


def _list_statement(
    actor: Actor, status: str, q: str, kind: str, now: dt.datetime
) -> tuple[str, list[Any]] | None:
    """The compiled source of the list at ``now``: for the fixed views of a unit (filter and kind, no search)
    compiled once per process and key (brygga.core.statements, ADR 0704); a search is compiled each time."""

    def build() -> QuerySet[Any]:
        return inbox_source(actor, status, q, kind, now).order_by()

    if q.strip() or kind not in ("", *KINDS):
        try:
            sql, params = build().query.sql_with_params()
        except EmptyResultSet:
            return None
        return sql, list(params)
    key = (
        "inbox",
        actor.unit.pk if actor.unit is not None else None,
        actor.can(Perm.CASE_READ),
        actor.can(Perm.PERSON_READ),
        status,
        kind,
        _settings_key(),
    )
    return statements.compiled(key, build, now)


def _counted_entries(
    statement: tuple[str, list[Any]], offset: int, limit: int
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """One page of the inbox's column rows and, in the same statement, the list's total and its SIP and care
    request counts (window aggregates over the whole list, computed before the LIMIT). Paginating through the
    ORM compiled the source twice and ran two statements (count, then page): a quarter of the inbox's time
    (issue 17)."""
    sql, params = statement
    other = "ib_kind <> 'case'"
    # The source is the ORM's compiled UNION with placeholders for every value; the rest is fixed text.
    wrapped = (
        "SELECT ib_kind, ib_row, ib_tier, ib_due, ib_last, COUNT(*) OVER (),"  # noqa: S608
        f" SUM(CASE WHEN {other} THEN 1 ELSE 0 END) OVER (),"
        f" SUM(CASE WHEN {other} AND ib_tier = 2 THEN 1 ELSE 0 END) OVER (),"
        f" SUM(CASE WHEN {other} AND ib_tier = 0 THEN 1 ELSE 0 END) OVER ()"
        f" FROM ({sql}) AS ib_list"
        f" ORDER BY {INBOX_ORDER_SQL}"
        " LIMIT %s OFFSET %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(wrapped, [*params, limit, offset])
        rows = cursor.fetchall()
    entries = [dict(zip(INBOX_COLUMNS, row[:5], strict=True)) for row in rows]
    if not rows:
        return entries, {"total": 0, "other": 0, "other_new": 0, "other_overdue": 0}
    total, other_open, other_new, other_overdue = (int(v or 0) for v in rows[0][5:])
    return entries, {
        "total": total,
        "other": other_open,
        "other_new": other_new,
        "other_overdue": other_overdue,
    }


def list_signature(page: Page) -> str:
    """What a page of the list shows, as a short digest of its column rows and the total: each row's kind,
    id, tier (acknowledged, new, due, overdue), deadline and last event. The open inbox sends it back when it
    asks again (htmx, every ``BRYGGA_INBOX_REFRESH_SECONDS``); an equal digest is answered 204 before any row
    is built or logged (issue 17: an open inbox costs a count and a page of ids, not a page)."""
    parts = [str(page.paginator.count)]
    for entry in page.object_list:
        parts.append(
            f"{entry['ib_kind']}:{entry['ib_row']}:{entry['ib_tier']}:{entry['ib_due'] or ''}:"
            f"{entry['ib_last'] or ''}"  # datetimes (or SQLite's text of a UNION): str() is stable either way
        )
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def inbox(
    actor: Actor, status: str = "open", q: str = "", kind: str = "", limit: int = case_selectors.PAGE_SIZE
) -> list[InboxRow]:
    """The first ``limit`` rows of the active unit's inbox, in inbox order (see ``inbox_page``); logged."""
    now = timezone.now()
    entries = list(inbox_source(actor, status, q, kind, now)[:limit])
    return inbox_rows(actor, entries, now)


def inbox_summaries(
    actor: Actor, counted: dict[str, int] | None = None, memberships: list[Any] | None = None
) -> list[dict[str, Any]]:
    """Counts for every unit the user works in, for the top of the inbox: discharge cases, SIPs and care
    requests together. No personal data, so no log. One grouped statement for the discharge cases of all the
    units and one per unit for its SIPs and care requests (over the compiled inbox sources): building these
    aggregates in the ORM cost as much Python as the rest of the page's queries (issue 17). ``counted``: the
    active unit's SIP and care-request counts when the inbox list has already counted them
    (``inbox_entries_page``'s ``other_counts``). ``memberships``: the user's valid memberships with their
    units, when the request has read them already (``request.memberships``)."""
    now = timezone.now()
    if memberships is None:
        memberships = list(actor.user.memberships.select_related("unit"))
    memberships = sorted(
        (m for m in memberships if m.allows(Perm.CASE_READ)), key=lambda m: (m.unit.name, m.pk)
    )
    case_counts = _case_counts([m.unit_id for m in memberships], now)
    summaries = []
    for membership in memberships:
        unit = membership.unit
        counts = dict(case_counts.get(unit.pk, dict.fromkeys(_CASE_COUNTS, 0)))
        active = actor.membership is not None and actor.membership.pk == membership.pk
        if membership.allows(Perm.PERSON_READ):
            others = counted if active and counted is not None else _sip_and_care_request_counts(unit, now)
            for key, value in others.items():
                counts[key] += value
        summaries.append(
            {
                "membership": membership,
                "unit": unit,
                "active": active,
                **counts,
            }
        )
    return summaries


_CASE_COUNTS = ("open", "unacknowledged", "new", "escalated", "overdue")


def _case_counts(unit_ids: list[int], now: dt.datetime) -> dict[int, dict[str, int]]:
    """The discharge-case counts of the summaries per unit, in one grouped statement: open (active
    participations of admitted or on-leave cases), unacknowledged, new (a receiving unit never acknowledged),
    escalated (unacknowledged beyond the deadline) and overdue (a deadline of the unit passed)."""
    if not unit_ids:
        return {}
    ops = connection.ops
    # Placeholders only: the table name and the number of placeholders come from the code.
    sql = (
        "SELECT unit_id, COUNT(*),"  # noqa: S608
        " COUNT(*) FILTER (WHERE needs_ack = %s),"
        " COUNT(*) FILTER (WHERE acknowledged_at IS NULL AND role IN (%s, %s)),"
        " COUNT(*) FILTER (WHERE needs_ack = %s AND unacked_since < %s),"
        " COUNT(*) FILTER (WHERE next_due_at < %s)"
        f" FROM {Participant._meta.db_table}"
        f" WHERE unit_id IN ({', '.join(['%s'] * len(unit_ids))}) AND status = %s"
        f" AND case_status IN ({', '.join(['%s'] * len(case_selectors.OPEN_STATUSES))})"
        " GROUP BY unit_id"
    )
    params = [
        True,
        Participant.Role.MUNICIPALITY,
        Participant.Role.PRIMARY_CARE,
        True,
        ops.adapt_datetimefield_value(now - rules.acknowledgement_deadline()),
        ops.adapt_datetimefield_value(now),
        *unit_ids,
        Participant.Status.ACTIVE,
        *case_selectors.OPEN_STATUSES,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, [str(p) if isinstance(p, str) else p for p in params])
        return {row[0]: dict(zip(_CASE_COUNTS, row[1:], strict=True)) for row in cursor.fetchall()}


def _sip_and_care_request_counts(unit: Any, now: dt.datetime) -> dict[str, int]:
    """The unit's open, new (tier 2) and overdue (tier 0) SIPs and care requests, counted in one statement
    over the same compiled sources as the inbox list, so the two cannot disagree."""
    parts = []
    for name, source in (
        ("sip", sip_selectors.sip_inbox_source),
        ("care_request", sip_selectors.care_request_inbox_source),
    ):
        # Compiled once per unit and process, the clock's values filled in per run (ADR 0704).
        part = statements.compiled(
            ("summary", name, unit.pk, _settings_key()),
            lambda source=source: source(unit, now),  # type: ignore[misc]
            now,
        )
        if part is not None:
            parts.append(part)
    if not parts:
        return {"open": 0, "new": 0, "overdue": 0}
    # The sources' SQL is compiled by the ORM with placeholders for every value.
    union = " UNION ALL ".join(
        f"SELECT ib_tier FROM ({sql}) AS ib_{i}"  # noqa: S608
        for i, (sql, _p) in enumerate(parts)
    )
    sql = (
        "SELECT COUNT(*), COUNT(*) FILTER (WHERE ib_tier = 2), COUNT(*) FILTER (WHERE ib_tier = 0)"  # noqa: S608
        f" FROM ({union}) AS ib_all"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [p for _sql, params in parts for p in params])
        row = cursor.fetchone()
    return dict(zip(("open", "new", "overdue"), row, strict=True))
