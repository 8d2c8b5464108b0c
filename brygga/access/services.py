"""The one checked path to a person's data.

Every view, API endpoint and export that shows or changes personal data goes through these functions:
they check the role (fail closed), check that the active unit is involved, and write the access-log entry in
the caller's transaction. "Not yours" and "does not exist" both raise NotFound."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from brygga.access.models import AccessLogEntry, AccessLogSeal, Involvement, LogReview
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.core.errors import NotFound, PermissionDenied
from brygga.organisations.models import Unit
from brygga.people.identifiers import parse_identity_number
from brygga.people.models import Person

Action = AccessLogEntry.Action


# --- need-to-know -------------------------------------------------------------------------------------------


def _active_involvement_q(now: dt.datetime | None = None) -> Q:
    now = now or timezone.now()
    grace = dt.timedelta(days=settings.BRYGGA_INVOLVEMENT_GRACE_DAYS)
    return Q(ended_at__isnull=True) | Q(ended_at__gte=now - grace)


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
    return Involvement.objects.filter(_active_involvement_q(), unit=unit, person_id=person_id).exists()


def involved_person_ids(unit: Unit) -> QuerySet[Involvement, Any]:
    """A subquery of the persons the unit may see, for scoping lists in the database."""
    return Involvement.objects.filter(_active_involvement_q(), unit=unit).values("person_id")


def visible_persons(actor: Actor) -> QuerySet[Person]:
    if not actor.can(Perm.PERSON_READ) or actor.unit is None:
        return Person.objects.none()
    return Person.objects.filter(pk__in=involved_person_ids(actor.unit))


def open_person(
    actor: Actor, person_id: int | str, what: str = "person", action: str = Action.READ
) -> Person:
    """Return the person if the actor's role may read and the active unit is involved; log the access."""
    if not actor.can(Perm.PERSON_READ) or actor.unit is None:
        raise NotFound
    try:
        pk = int(person_id)
    except (TypeError, ValueError) as exc:
        raise NotFound from exc
    if not is_involved(actor.unit, pk):
        raise NotFound
    person = Person.objects.select_related("registered_municipality", "listed_unit").filter(pk=pk).first()
    if person is None:
        raise NotFound
    log_access(actor, person, action, what, had_involvement=True)
    return person


def lookup_person(actor: Actor, identifier: str) -> Person:
    """Find a person by identity number to start a case (no involvement needed yet). The look-up is logged and
    flagged for review when the unit has no involvement."""
    if not actor.can(Perm.PERSON_LOOKUP) or actor.unit is None:
        raise NotFound
    number = parse_identity_number(identifier)
    person = (
        Person.objects.select_related("registered_municipality", "listed_unit")
        .filter(identifier=number.value)
        .first()
    )
    if person is None:
        raise NotFound
    log_access(actor, person, Action.LOOKUP, "person", had_involvement=is_involved(actor.unit, person.pk))
    return person


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
    }


def _new_entry(
    actor: Actor,
    person: Person,
    action: str,
    what: str,
    had_involvement: bool,
    fields: dict[str, Any] | None = None,
) -> AccessLogEntry:
    # Ids rather than model instances: an entry is written, never navigated, and setting a relation through
    # its descriptor cost more than the HMAC on a page that logs 50 persons.
    entry = AccessLogEntry(
        at=timezone.now(),
        **(fields or _actor_fields(actor)),
        person_id=person.pk,
        person_identifier=person.identifier,
        action=action,
        what=what[:200],
        had_involvement=had_involvement,
    )
    entry.mac = entry_mac(entry)
    return entry


def log_access(actor: Actor, person: Person, action: str, what: str, had_involvement: bool) -> AccessLogEntry:
    entry = _new_entry(actor, person, action, what, had_involvement)
    entry.user, entry.unit, entry.person = actor.user, actor.unit, person  # a caller may read them back
    entry.save()
    return entry


def log_list_access(actor: Actor, persons: Iterable[Person], what: str) -> None:
    """Log that a list showed these persons (one entry each, in one insert)."""
    fields = _actor_fields(actor)
    entries = [_new_entry(actor, p, Action.READ, what, True, fields) for p in persons]
    if entries:
        AccessLogEntry.objects.bulk_create(entries)


def log_accesses(actor: Actor, rows: Iterable[tuple[Person, str, str, bool]]) -> None:
    """Log many accesses of the same actor — (person, action, what, had_involvement) each — in one insert:
    one entry (with its MAC) per row, in the given order. For set-based writes such as the batch ingest."""
    fields = _actor_fields(actor)
    entries = [_new_entry(actor, p, action, what, involved, fields) for p, action, what, involved in rows]
    if entries:
        AccessLogEntry.objects.bulk_create(entries)


SEAL_DELAY = dt.timedelta(seconds=60)


def seal_access_log(now: dt.datetime | None = None) -> AccessLogSeal | None:
    """Chain every entry not yet sealed (older than a minute, so no slower transaction can still commit an
    earlier id) into a new seal. Idempotent: with nothing new it writes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        last = AccessLogSeal.objects.select_for_update().order_by("-sequence").first()
        after_id = last.last_id if last else 0
        macs = list(
            AccessLogEntry.objects.filter(id__gt=after_id, at__lt=now - SEAL_DELAY)
            .order_by("id")
            .values_list("id", "mac")
        )
        if not macs:
            return None
        previous = last.digest if last else "0" * 64
        digest = _chain_digest(previous, [mac for _id, mac in macs])
        return AccessLogSeal.objects.create(
            sequence=(last.sequence + 1) if last else 1,
            first_id=macs[0][0],
            last_id=macs[-1][0],
            entry_count=len(macs),
            digest=digest,
            previous_digest=previous,
            sealed_at=now,
        )


def _chain_digest(previous: str, macs: list[str]) -> str:
    h = hashlib.sha256(previous.encode())
    for mac in macs:
        h.update(mac.encode())
    return h.hexdigest()


def verify_access_log() -> list[str]:
    """Every problem found: entries whose content no longer matches their MAC, and seals whose range has
    lost, gained or changed entries, or whose chain is broken. Empty means intact."""
    problems: list[str] = []
    for entry in AccessLogEntry.objects.order_by("id").iterator(chunk_size=2000):
        if not hmac.compare_digest(entry.mac, entry_mac(entry)):
            problems.append(f"Loggpost {entry.pk} har ändrats efter att den skrevs.")
    previous = "0" * 64
    for seal in AccessLogSeal.objects.order_by("sequence"):
        if seal.previous_digest != previous:
            problems.append(f"Försegling {seal.sequence} hänger inte ihop med föregående försegling.")
        macs = list(
            AccessLogEntry.objects.filter(id__gte=seal.first_id, id__lte=seal.last_id)
            .order_by("id")
            .values_list("mac", flat=True)
        )
        if len(macs) != seal.entry_count:
            problems.append(
                f"Försegling {seal.sequence} omfattade {seal.entry_count} poster men {len(macs)} finns kvar."
            )
        elif _chain_digest(seal.previous_digest, macs) != seal.digest:
            problems.append(f"Posterna i försegling {seal.sequence} har ändrats.")
        previous = seal.digest
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
