"""The one checked path to a person's data.

Every view, API endpoint and export that shows or changes personal data goes through these functions:
they check the role (fail closed), check that the active unit is involved, and write the access-log entry in
the caller's transaction. "Not yours" and "does not exist" both raise NotFound."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.access import anchors, timestamps
from brygga.access.models import (
    AccessLogEntry,
    AccessLogPrune,
    AccessLogSeal,
    DenialReason,
    Involvement,
    LogReview,
)
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.core import statements
from brygga.core.errors import DomainError, NotFound, PermissionDenied
from brygga.organisations.models import Unit
from brygga.people.identifiers import parse_identity_number
from brygga.people.models import Person
from brygga.people.register import RegisterUnavailable, find_or_fetch

Action = AccessLogEntry.Action


# --- need-to-know -------------------------------------------------------------------------------------------


def active_involvement_q(now: dt.datetime | None = None) -> Q:
    now = now or timezone.now()
    # ``now - grace`` as a value of the statement: a list compiled once per shape computes it at each run
    # (brygga.core.statements, ADR 0704); anywhere else it is the value at ``now``.
    return Q(ended_at__isnull=True) | Q(ended_at__gte=statements.moment(now, _minus_grace))


def _minus_grace() -> dt.timedelta:
    return -dt.timedelta(days=settings.BRYGGA_INVOLVEMENT_GRACE_DAYS)


def involve(person: Person, unit: Unit, kind: str, source: str, at: dt.datetime | None = None) -> Involvement:
    """Open the person's data to the unit for the given source (idempotent)."""
    involvement, created = Involvement.objects.get_or_create(
        person=person, unit=unit, source=source, defaults={"kind": kind, "started_at": at or timezone.now()}
    )
    if not created and involvement.ended_at is not None:
        involvement.ended_at = None
        involvement.save(update_fields=["ended_at"])
    return involvement


def involve_many(
    rows: Iterable[tuple[int, Unit, str]], kind: str, at: dt.datetime | None = None, new_sources: bool = False
) -> None:
    """``involve`` for many (person id, unit, source) at once: one read of what exists, ended ones reopened,
    the rest in one insert (the unique constraint stays the guard). ``new_sources``: the sources were just
    created (a new case), so there is nothing to read."""
    wanted = {(person_id, unit.pk, source): unit for person_id, unit, source in rows}
    if not wanted:
        return
    existing: dict[tuple[int, int, str], Involvement] = {}
    if not new_sources:
        for i in Involvement.objects.filter(
            source__in={s for _p, _u, s in wanted}, person_id__in={p for p, _u, _s in wanted}
        ):
            if (i.person_id, i.unit_id, i.source) in wanted:
                existing[(i.person_id, i.unit_id, i.source)] = i
    ended = [i.pk for i in existing.values() if i.ended_at is not None]
    if ended:
        Involvement.objects.filter(pk__in=ended).update(ended_at=None)
    started = at or timezone.now()
    Involvement.objects.bulk_create(
        [
            Involvement(person_id=p, unit=unit, kind=kind, source=s, started_at=started)
            for (p, _u, s), unit in wanted.items()
            if (p, _u, s) not in existing
        ]
    )


def end_involvement(person: Person, unit: Unit | None, source: str, at: dt.datetime | None = None) -> int:
    """End the involvement(s) created by a source; for all units when unit is None."""
    qs = Involvement.objects.filter(person=person, source=source, ended_at__isnull=True)
    if unit is not None:
        qs = qs.filter(unit=unit)
    return qs.update(ended_at=at or timezone.now())


def is_involved(unit: Unit | None, person_id: int) -> bool:
    if unit is None:
        return False
    now = timezone.now()
    # Asked on every read of a person: compiled once per process (ADR 0707), the grace computed from ``now``.
    found = statements.reused(
        "is_involved",
        lambda unit_id, person_id: Involvement.objects.filter(
            active_involvement_q(now), unit_id=unit_id, person_id=person_id
        ).values_list("pk", flat=True)[:1],
        now=now,
        unit_id=unit.pk,
        person_id=int(person_id),
    )
    return bool(found)


def involved_person_ids(unit: Unit, now: dt.datetime | None = None) -> QuerySet[Involvement, Any]:
    """A subquery of the persons the unit may see, for scoping lists in the database."""
    return Involvement.objects.filter(active_involvement_q(now), unit=unit).values("person_id")


def visible_persons(actor: Actor) -> QuerySet[Person]:
    if not actor.can(Perm.PERSON_READ) or actor.unit is None:
        return Person.objects.none()
    return Person.objects.filter(pk__in=involved_person_ids(actor.unit))


def refused_person(model: Any, pk: int) -> int | None:
    """The person a refused object concerns (``model`` has a ``person`` foreign key), for the DENIED log
    entry the refusal leads to; None when the object does not exist. Only called on the way to NotFound."""
    return model.objects.filter(pk=pk).values_list("person_id", flat=True).first()


def open_person(
    actor: Actor,
    person_id: int | str,
    what: str = "person",
    action: str = Action.READ,
    read: Person | None = None,
) -> Person:
    """Return the person if the actor's role may read and the active unit is involved; log the access.
    ``read``: the person as the caller has just read it in this transaction (the case page reads it with the
    case), returned instead of reading it again; the checks and the log entry are the same."""
    try:
        pk = int(person_id)
    except (TypeError, ValueError) as exc:
        raise NotFound(DenialReason.NOT_FOUND) from exc
    if not actor.can(Perm.PERSON_READ) or actor.unit is None:
        raise NotFound(DenialReason.ROLE, pk)
    if not is_involved(actor.unit, pk):
        raise NotFound(DenialReason.NO_INVOLVEMENT, pk)
    if read is not None and read.pk == pk:
        person: Person | None = read
    else:
        person = Person.objects.select_related("registered_municipality", "listed_unit").filter(pk=pk).first()
    if person is None:
        raise NotFound(DenialReason.NOT_FOUND)
    log_access(actor, person, action, what, had_involvement=True)
    return person


# Why a person who is not yet the unit's may be looked up (issue 20 item 6): to start a stay or a SIP, each by
# the roles that may do so. The value is stated by the user and written to the log entry.
LOOKUP_PURPOSES: dict[str, tuple[Perm, str]] = {
    "stay": (Perm.CASE_CREATE, "inskrivning"),
    "sip": (Perm.SIP_MANAGE, "SIP"),
}


def lookup_person(actor: Actor, identifier: str, purpose: str | None = None) -> Person:
    """Find a person by identity number (no involvement needed yet). The look-up is logged and flagged for
    review when the unit has no involvement.

    ``purpose`` is given by the stand-alone person search (the web page, POST /persons/lookup) and checked
    there by ``_lookup_gate``; the flows that start a stay or a SIP themselves call without it (their purpose
    is what they do, and their permission is checked by them)."""
    if not actor.can(Perm.PERSON_LOOKUP) or actor.unit is None:
        raise NotFound(DenialReason.ROLE)
    if purpose is not None:
        _lookup_rate_limit(actor)
    # The population register is asked only on behalf of someone who may look up a person who is not yet the
    # unit's: a search without a valid purpose must not copy a stranger's data into brygga.
    person = _find_or_fetch(identifier, register=purpose is None or _purpose_allows(actor, purpose))
    if person is None:
        raise NotFound(DenialReason.NOT_FOUND)
    involved = is_involved(actor.unit, person.pk)
    what = "person"
    if purpose is not None:
        what = _lookup_gate(actor, person, purpose, involved)
    log_access(actor, person, Action.LOOKUP, what, had_involvement=involved)
    return person


def _find_or_fetch(identifier: str, register: bool = True) -> Person | None:
    """The person brygga has, or the one the population register returns the first time (ADR 0500). A register
    that does not answer is a clear error for an unknown number only; a known person never waits for it."""

    if not register:
        number = parse_identity_number(identifier)
        return (
            Person.objects.select_related("registered_municipality", "listed_unit")
            .filter(identifier=number.value)
            .first()
        )
    try:
        return find_or_fetch(identifier)
    except RegisterUnavailable as exc:
        raise DomainError.single(
            "identifier",
            "FOLKBOKFORING-SVARAR-INTE",
            _(
                "Folkbokföringen svarar inte just nu, och personen finns inte i brygga sedan tidigare. "
                "Försök igen om en stund, eller registrera personen manuellt med reservnummer."
            ),
            status=503,
        ) from exc


def _lookup_gate(actor: Actor, person: Person, purpose: str, involved: bool) -> str:
    """Need-to-know for the person search (issue 20 item 6): a person the unit already takes part in may be
    looked up by any role with the look-up; anyone else only by a role that starts a stay (at a ward) or a
    SIP, with that purpose stated. Returns what the log entry says; a refusal is "not found"."""
    stated = LOOKUP_PURPOSES.get(purpose)
    if involved:
        return f"person/uppslag:{stated[1] if stated else 'medverkan'}"
    if stated is None:
        # No purpose stated: "not found", exactly like a number nobody has, so the answer never tells
        # whether the person exists.
        raise NotFound(DenialReason.ROLE, person.pk)
    if not _purpose_allows(actor, purpose):
        raise NotFound(DenialReason.ROLE, person.pk)
    return f"person/uppslag:{stated[1]}"


def _purpose_allows(actor: Actor, purpose: str) -> bool:
    """Whether the actor's role and unit may look up a person not yet the unit's for this purpose."""
    stated = LOOKUP_PURPOSES.get(purpose)
    if stated is None or actor.unit is None or not actor.can(stated[0]):
        return False
    return purpose != "stay" or actor.unit.kind == Unit.Kind.WARD  # only a ward starts an inpatient stay


def _lookup_rate_limit(actor: Actor) -> None:
    """At most BRYGGA_LOOKUP_LIMIT_PER_HOUR searches per user an hour that found no person of the unit's
    (look-ups without involvement and refused attempts, counted from the log itself): someone stepping
    through identity numbers is stopped, and the reviewer sees every attempt."""
    limit = settings.BRYGGA_LOOKUP_LIMIT_PER_HOUR
    since = timezone.now() - dt.timedelta(hours=1)
    recent = AccessLogEntry.objects.filter(user=actor.user, at__gte=since).filter(
        Q(action=Action.LOOKUP, had_involvement=False) | Q(action=Action.DENIED)
    )
    if recent.count() >= limit:
        raise DomainError.single(
            "identifier",
            "UPPSLAG-GRANS",
            _("Du har sökt på många personer utanför enheten den senaste timmen. Försök igen senare."),
            status=429,
        )


def record_change(actor: Actor, person: Person, what: str, action: str = Action.UPDATE) -> AccessLogEntry:
    """Log a change to a person's data (call inside the transaction that makes the change)."""
    return log_access(actor, person, action, what, had_involvement=is_involved(actor.unit, person.pk))


# --- the access log -----------------------------------------------------------------------------------------


def _log_key() -> bytes:
    return _derive_log_key(settings.BRYGGA_ACCESS_LOG_KEY, settings.SECRET_KEY)


@functools.lru_cache(maxsize=4)
def _derive_log_key(configured: str, secret_key: str) -> bytes:
    """Derived once per key, not once per entry (an inbox page writes 50 entries)."""
    if configured:
        return configured.encode()
    return hashlib.sha256(b"brygga-access-log:" + secret_key.encode()).digest()


def entry_mac(entry: AccessLogEntry) -> str:
    fields = [
        entry.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        str(entry.user_id or ""),
        entry.user_label,
        str(entry.unit_id or ""),
        entry.unit_label,
        entry.unit_hsa_id,
        entry.role,
        str(entry.person_id or ""),
        entry.person_identifier,
        entry.action,
        entry.what,
        entry.channel,
        "1" if entry.had_involvement else "0",
    ]
    if entry.reason:  # added with ADR 0801; entries without a reason keep the MAC they were written with
        fields.append(entry.reason)
    # Added later (issue 15): only in the MAC when set, so every entry written before keeps its MAC.
    if entry.auth_method:
        fields.append(f"auth:{entry.auth_method}")
    return hmac.new(_log_key(), "\x1f".join(fields).encode(), hashlib.sha256).hexdigest()


def _actor_fields(actor: Actor) -> dict[str, Any]:
    """The actor's part of an entry, worked out once for a list of entries."""
    unit = actor.unit
    return {
        "user_id": actor.user.pk,
        "user_label": f"{actor.user.get_full_name() or actor.user.username} ({actor.user.username})",
        "unit_id": unit.pk if unit else None,
        "unit_label": unit.name if unit else "",
        "unit_hsa_id": unit.hsa_id if unit else "",
        "role": actor.role or "",
        "channel": actor.channel,
        "auth_method": actor.auth_method,
    }


_WHAT_LIMIT = 200  # AccessLogEntry.what's max_length


def _checked_what(what: str) -> str:
    """``what`` as it is, or a ValueError: an entry is never cut to fit. Every label is built by code
    (``case:42/pdf``), so a longer one is a defect to see, and the read it would log does not happen."""
    if len(what) > _WHAT_LIMIT:
        raise ValueError(
            f"access log 'what' is {len(what)} characters, the limit is {_WHAT_LIMIT}: {what[:40]}…"
        )
    return what


def _new_entry(
    actor: Actor,
    person: Person | None,
    action: str,
    what: str,
    had_involvement: bool,
    fields: dict[str, Any] | None = None,
    reason: str = "",
) -> AccessLogEntry:
    # Ids rather than model instances: an entry is written, never navigated, and setting a relation through
    # its descriptor cost more than the HMAC on a page that logs 50 persons.
    entry = AccessLogEntry(
        at=timezone.now(),
        **(fields or _actor_fields(actor)),
        person_id=person.pk if person else None,
        person_identifier=person.identifier if person else "",
        action=action,
        what=_checked_what(what),
        had_involvement=had_involvement,
        reason=reason,
    )
    entry.mac = entry_mac(entry)
    return entry


def log_access(actor: Actor, person: Person, action: str, what: str, had_involvement: bool) -> AccessLogEntry:
    entry = _new_entry(actor, person, action, what, had_involvement)
    entry.user, entry.unit, entry.person = actor.user, actor.unit, person  # a caller may read them back
    entry.save()
    return entry


def log_denied(actor: Actor, what: str, reason: str, person_id: int | None = None) -> AccessLogEntry:
    """Log a refused attempt (R-LOG-1, issue 13 item 8): who asked, for what, and why it was refused, in the
    same tamper-evident chain. Written by brygga.access.middleware after the request's own transaction has
    rolled back, so the refusal is kept while nothing of the request is."""
    person = Person.objects.filter(pk=person_id).first() if person_id is not None else None
    entry = _new_entry(
        actor, person, Action.DENIED, what, had_involvement=False, reason=reason or DenialReason.NOT_FOUND
    )
    entry.save()
    return entry


# The columns an entry is written with, in the order of ``_insert_entries``'s VALUES.
_ENTRY_COLUMNS = (
    "at",
    "user_id",
    "user_label",
    "unit_id",
    "unit_label",
    "unit_hsa_id",
    "role",
    "person_id",
    "person_identifier",
    "action",
    "what",
    "channel",
    "auth_method",
    "had_involvement",
    "reason",
    "mac",
)
_INSERT_ROWS = 50  # 800 placeholders a statement: within every SQLite build's limit


def _insert_entries(entries: list[Any]) -> None:
    """Insert entries built by ``_entries``, in their order, as multi-row INSERTs. ``bulk_create`` prepared
    every field of every entry through the model layer: on a list page that logs 50 persons that was a tenth
    of the page's time (issue 17). The values are the entries' own attributes, the same ones the MAC covers;
    only the timestamp needs the backend's adaptation."""
    if connection.vendor == "postgresql":
        _insert_entries_as_json(entries)
        return
    adapt = connection.ops.adapt_datetimefield_value
    table = connection.ops.quote_name(AccessLogEntry._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in _ENTRY_COLUMNS)
    row = "(" + ", ".join(["%s"] * len(_ENTRY_COLUMNS)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(entries), _INSERT_ROWS):
            chunk = entries[start : start + _INSERT_ROWS]
            params: list[Any] = []
            for entry in chunk:
                params.append(adapt(entry.at))
                params.extend(getattr(entry, column) for column in _ENTRY_COLUMNS[1:])
            # Table and column names come from the model; every value is a placeholder.
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(chunk))}",  # noqa: S608
                params,
            )


@functools.cache  # one database, one text
def _json_insert_statement() -> str:
    """PostgreSQL's INSERT of ``_ENTRY_COLUMNS`` from one JSON array of entries (each an array of the
    columns' values, in ``_ENTRY_COLUMNS``' order), in the document's order."""
    ops = connection.ops
    by_column = {f.column: f for f in AccessLogEntry._meta.concrete_fields}
    # Text for the character columns: a cast to varchar(n) would cut a longer value without a word, where
    # the insert into the column refuses it.
    types = [
        "text" if isinstance(f, CharField) else f.db_type(connection)
        for f in (by_column[c] for c in _ENTRY_COLUMNS)
    ]
    values = ", ".join(f"(entry.value->>{i})::{db_type}" for i, db_type in enumerate(types))
    names = ", ".join(ops.quote_name(c) for c in _ENTRY_COLUMNS)
    # Table, column names and types come from the model; the entries are one bound value.
    return (
        f"INSERT INTO {ops.quote_name(AccessLogEntry._meta.db_table)} ({names})"  # noqa: S608
        f" SELECT {values} FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS entry (value, position)"
        " ORDER BY entry.position"
    )


def _insert_entries_as_json(entries: list[Any]) -> None:
    """On PostgreSQL, a list's entries as one INSERT of one JSON document. A VALUES row per entry made a
    statement of 800 placeholders that psycopg parsed anew at every page (its cache keeps only short
    statements) and the server planned anew (never the same text twice): 2 ms of the inbox's time. Sixteen
    arrays instead (ADR 0706) kept the text fixed, but psycopg converts the values of an array in Python:
    2.5 ms for a page's 50 entries, where the standard library's JSON encoder (in C) takes a tenth of that
    (issue 17, docs/benchmarks.md). The text never changes, so the server prepares it. The ids follow the
    entries' order (``position``), as the seal's chain expects of a list written in one statement; the
    timestamps go as ISO 8601 text with their microseconds and zone, exactly as the MAC saw them."""
    rows = [
        [entry.at.isoformat(), *(getattr(entry, column) for column in _ENTRY_COLUMNS[1:])]
        for entry in entries
    ]
    with connection.cursor() as cursor:
        cursor.execute(_json_insert_statement(), [json.dumps(rows)])


@dataclass(slots=True)
class _EntryValues:
    """An entry of a list as plain values: what ``entry_mac`` covers and ``_insert_entries`` writes. A model
    instance per person cost more than its MAC on a page that logs 50 persons (issue 17)."""

    at: dt.datetime
    user_id: int | None
    user_label: str
    unit_id: int | None
    unit_label: str
    unit_hsa_id: str
    role: str
    channel: str
    auth_method: str
    person_id: int | None
    person_identifier: str
    action: str
    what: str
    had_involvement: bool
    reason: str = ""
    mac: str = ""


class LoggedPerson(Protocol):
    """What an entry records of a person: a ``Person``, or a list's plain row of one."""

    @property
    def pk(self) -> int: ...
    @property
    def identifier(self) -> str: ...


def _entries(actor: Actor, rows: Iterable[tuple[LoggedPerson, str, str, bool]]) -> list[Any]:
    """The entries of ``rows`` (person, action, what, had_involvement) for one actor, each with its MAC;
    the same values ``_new_entry`` gives an entry written alone."""
    fields = _actor_fields(actor)
    entries = []
    for person, action, what, involved in rows:
        entry = _EntryValues(
            at=timezone.now(),
            **fields,
            person_id=person.pk,
            person_identifier=person.identifier,
            action=action,
            what=_checked_what(what),
            had_involvement=involved,
        )
        entry.mac = entry_mac(entry)  # type: ignore[arg-type]  # the same attributes as an AccessLogEntry
        entries.append(entry)
    return entries


def log_list_access(actor: Actor, persons: Iterable[LoggedPerson], what: str) -> None:
    """Log that a list showed these persons (one entry each, in one insert)."""
    entries = _entries(actor, ((p, Action.READ, what, True) for p in persons))
    if entries:
        _insert_entries(entries)


def log_accesses(actor: Actor, rows: Iterable[tuple[Person, str, str, bool]]) -> None:
    """Log many accesses of the same actor — (person, action, what, had_involvement) each — in one insert:
    one entry (with its MAC) per row, in the given order. For set-based writes such as the batch ingest."""
    entries = _entries(actor, rows)
    if entries:
        _insert_entries(entries)


SEAL_DELAY = dt.timedelta(seconds=60)
GENESIS = "0" * 64


def seal_access_log(now: dt.datetime | None = None) -> AccessLogSeal | None:
    """Chain every entry not yet sealed (older than a minute, so no slower transaction can still commit an
    earlier id) into a new keyed seal, pin the tail written since (``high_id``/``high_count``), and write the
    seal to the anchor outside the database once committed. Idempotent: with nothing new it writes no seal
    (but still anchors a seal that a crash left unanchored)."""
    now = now or timezone.now()
    with transaction.atomic():
        last = AccessLogSeal.objects.select_for_update().order_by("-sequence").first()
        after_id = last.last_id if last else 0
        macs = list(
            AccessLogEntry.objects.filter(id__gt=after_id, at__lt=now - SEAL_DELAY)
            .order_by("id")
            .values_list("id", "mac")
        )
        seal = None
        if macs:
            high = AccessLogEntry.objects.aggregate(high_id=Max("id"))["high_id"] or 0
            seal = AccessLogSeal(
                sequence=(last.sequence + 1) if last else 1,
                first_id=macs[0][0],
                last_id=macs[-1][0],
                entry_count=len(macs),
                previous_digest=last.digest if last else GENESIS,
                sealed_at=now,
                scheme=AccessLogSeal.Scheme.HMAC_SHA256,
                high_id=high,
                high_count=AccessLogEntry.objects.filter(id__lte=high).count(),
            )
            seal.digest = seal_digest(seal, [mac for _id, mac in macs])
            seal.save()
        transaction.on_commit(anchors.anchor_new_seals)
        transaction.on_commit(timestamps.stamp_seals)  # RFC 3161, when a TSA is configured (ADR 0808)
    return seal


def seal_digest(seal: AccessLogSeal, macs: list[str]) -> str:
    """The seal's digest in its scheme. Keyed (HMAC-SHA256 with the log key) since ADR 0800, over the previous
    digest, the seal's own numbers and the entries' MACs: without the key no one can recompute a chain."""
    if seal.scheme == AccessLogSeal.Scheme.SHA256:
        h = hashlib.sha256(seal.previous_digest.encode())
        for mac in macs:
            h.update(mac.encode())
        return h.hexdigest()
    keyed = hmac.new(_log_key(), digestmod=hashlib.sha256)
    header = [
        seal.previous_digest,
        str(seal.sequence),
        str(seal.first_id),
        str(seal.last_id),
        str(seal.entry_count),
        str(seal.high_id),
        str(seal.high_count),
        seal.sealed_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
    ]
    keyed.update("\x1f".join(header).encode())
    for mac in macs:
        keyed.update(b"\x1e" + mac.encode())
    return keyed.hexdigest()


def prune_mac(prune: AccessLogPrune) -> str:
    """The boundary's HMAC with the log key: without the key no one can record a boundary that would excuse
    deleted entries."""
    fields = [
        "prune",
        str(prune.through_sequence),
        str(prune.last_id),
        prune.seal_digest,
        str(prune.entry_count),
        prune.newest_entry_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        prune.pruned_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        str(prune.retention_years),
    ]
    return hmac.new(_log_key(), "\x1f".join(fields).encode(), hashlib.sha256).hexdigest()


def prunable_seals(cutoff: dt.datetime, held_identifiers: Collection[str] = ()) -> list[AccessLogSeal]:
    """The oldest whole sealed segments whose every entry is older than ``cutoff``, in order, stopping at the
    first that is not (or that holds an entry of a person under a legal hold). The newest seal always stays:
    it pins the unsealed tail."""
    seals = list(AccessLogSeal.objects.order_by("sequence"))
    chosen: list[AccessLogSeal] = []
    for seal in seals[:-1]:
        entries = AccessLogEntry.objects.filter(id__gte=seal.first_id, id__lte=seal.last_id)
        newest = entries.aggregate(newest=Max("at"))["newest"]
        if newest is None or newest >= cutoff:
            break
        if held_identifiers and entries.filter(person_identifier__in=held_identifiers).exists():
            break
        chosen.append(seal)
    return chosen


def prune_access_log(
    cutoff: dt.datetime, years: int, held_identifiers: Collection[str] = (), now: dt.datetime | None = None
) -> AccessLogPrune | None:
    """Delete the oldest whole sealed segments older than ``cutoff`` (ADR 0409), in one transaction: first
    the keyed boundary (the last dropped seal's sequence, last id and digest), which the database triggers
    require before they admit the deletion, then the entries and the seals. ``verify_access_log`` then starts
    the chain at the boundary and still says intact."""
    now = now or timezone.now()
    with transaction.atomic():
        AccessLogSeal.objects.select_for_update().order_by(
            "-sequence"
        ).first()  # one pruner or sealer at a time
        seals = prunable_seals(cutoff, held_identifiers)
        if not seals:
            return None
        last = seals[-1]
        entries = AccessLogEntry.objects.filter(id__lte=last.last_id)
        previous = AccessLogPrune.objects.order_by("-through_sequence").first()
        prune = AccessLogPrune(
            through_sequence=last.sequence,
            last_id=last.last_id,
            seal_digest=last.digest,
            entry_count=entries.count() + (previous.entry_count if previous else 0),
            newest_entry_at=entries.aggregate(newest=Max("at"))["newest"] or now,
            pruned_at=now,
            retention_years=years,
        )
        prune.mac = prune_mac(prune)
        prune.save()
        entries.delete()  # the triggers admit it now: every id is at or below the boundary
        AccessLogSeal.objects.filter(sequence__lte=last.sequence).delete()
    return prune


def verify_access_log() -> list[str]:
    """Every problem found: entries whose content no longer matches their MAC; seals whose range has lost,
    gained or changed entries, whose chain or key is wrong, or that fall back to the unkeyed scheme; entries
    removed from the tail the last seal pinned; and seals missing from, or differing from, the anchor outside
    the database (a dropped last seal with everything after it). Empty means intact."""
    problems: list[str] = []
    for entry in AccessLogEntry.objects.order_by("id").iterator(chunk_size=2000):
        if not hmac.compare_digest(entry.mac, entry_mac(entry)):
            problems.append(f"Loggpost {entry.pk} har ändrats efter att den skrevs.")
    previous = GENESIS
    keyed_seen = False
    last_seal: AccessLogSeal | None = None
    expected_sequence = 1
    # Segments dropped by retention (ADR 0409): the chain starts at the newest keyed boundary.
    boundary = None
    for prune in AccessLogPrune.objects.order_by("through_sequence"):
        if not hmac.compare_digest(prune.mac, prune_mac(prune)):
            problems.append(f"Gallringsgränsen vid försegling {prune.through_sequence} har ändrats.")
            continue
        boundary = prune
    pruned_entries = 0
    if boundary is not None:
        previous, expected_sequence = boundary.seal_digest, boundary.through_sequence + 1
        pruned_entries = boundary.entry_count
        if AccessLogEntry.objects.filter(id__lte=boundary.last_id).exists():
            problems.append(
                f"Loggposter före gallringsgränsen (försegling {boundary.through_sequence}) finns kvar."
            )
    seals = AccessLogSeal.objects.order_by("sequence")
    if boundary is not None:
        seals = seals.filter(sequence__gt=boundary.through_sequence)
    for seal in seals:
        if seal.sequence != expected_sequence:
            problems.append(f"Försegling {expected_sequence} saknas.")
        expected_sequence = seal.sequence + 1
        if seal.previous_digest != previous:
            problems.append(f"Försegling {seal.sequence} hänger inte ihop med föregående försegling.")
        if seal.scheme == AccessLogSeal.Scheme.HMAC_SHA256:
            keyed_seen = True
        elif keyed_seen:
            problems.append(f"Försegling {seal.sequence} är inte nyckelsäkrad men följer på en som är det.")
        macs = list(
            AccessLogEntry.objects.filter(id__gte=seal.first_id, id__lte=seal.last_id)
            .order_by("id")
            .values_list("mac", flat=True)
        )
        if len(macs) != seal.entry_count:
            problems.append(
                f"Försegling {seal.sequence} omfattade {seal.entry_count} poster men {len(macs)} finns kvar."
            )
        elif not hmac.compare_digest(seal_digest(seal, macs), seal.digest):
            problems.append(f"Posterna i försegling {seal.sequence} har ändrats.")
        previous = seal.digest
        last_seal = seal
    if last_seal is not None and last_seal.scheme == AccessLogSeal.Scheme.HMAC_SHA256:
        # Entries dropped with their whole segments by retention count as kept: the boundary accounts for them
        kept = AccessLogEntry.objects.filter(id__lte=last_seal.high_id).count() + pruned_entries
        if kept < last_seal.high_count:
            problems.append(
                f"{last_seal.high_count - kept} loggposter skrivna före försegling {last_seal.sequence} "
                "har tagits bort."
            )
    all_seals = list(AccessLogSeal.objects.order_by("sequence"))
    problems += anchors.check_anchor(all_seals, boundary)
    problems += timestamps.check_stamps(all_seals, through=boundary.through_sequence if boundary else 0)
    return problems


def log_extract(person: Person) -> QuerySet[AccessLogEntry]:
    """The patient's log extract (R-LOG-3): which units accessed the data and when. Includes entries under
    identities that the person has replaced (a reserve number later replaced by a personnummer)."""
    identifiers = [person.identifier, *person.replaced_identities.values_list("identifier", flat=True)]
    return (
        AccessLogEntry.objects.filter(person_identifier__in=identifiers)
        .exclude(action=Action.DENIED)
        .order_by("at", "id")
    )


def record_log_review(
    actor: Actor, entries: list[AccessLogEntry], kind: str, outcome: str, comment: str
) -> LogReview:
    """Document a log check (R-LOG-1 items 5–6): who reviewed which entries, how, and the outcome."""
    actor.require(Perm.ACCESS_LOG_REVIEW)
    unit = actor.unit
    if unit is None:  # require() already refuses an actor without a membership; this narrows the type
        raise PermissionDenied(Perm.ACCESS_LOG_REVIEW.value)
    with transaction.atomic():
        review = LogReview.objects.create(
            reviewer=actor.user, reviewer_unit=unit, kind=kind, outcome=outcome, comment=comment
        )
        review.entries.set(entries)
    return review


def person_by_identifier(identifier: str) -> Person | None:
    """The person brygga has with this (normalised) identity number, for a log reviewer's extract: the caller
    holds the review permission and logs what it shows (no register look-up, no involvement)."""
    return Person.objects.filter(identifier=identifier).first()


def person_by_reference(pk: int) -> Person | None:
    """The person with this id, for a log reviewer's search (as ``person_by_identifier``)."""
    return Person.objects.filter(pk=pk).first()
