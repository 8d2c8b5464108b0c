"""The edge cases: transfer, leave, death, cancellation, corrections of a notice, a reserve number replaced,
and re-addressing after a move (R-INS-7)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.access.models import AccessLogEntry, Involvement
from brygga.access.services import (
    end_involvement,
    involve,
    log_access,
    record_change,
)
from brygga.accounts.context import Actor
from brygga.cases import actions, rules
from brygga.cases.models import Case, CaseEvent, Participant
from brygga.cases.services.admission import add_recipients
from brygga.cases.services.common import (
    OPEN,
    Kind,
    Status,
    _iso,
    _not_before,
    _not_future,
    _now,
    _require_state,
    _unit_ref,
    keep_inbox_in_step,
    lock_case,
    record_event,
)
from brygga.core.errors import DomainError
from brygga.core.limits import limited
from brygga.organisations.models import Unit
from brygga.people.identifiers import IdKind
from brygga.people.models import Person

# --- edge cases ---------------------------------------------------------------------------------------------


@transaction.atomic
def transfer(actor: Actor, case: Case, to_ward: Unit | int | str, at: dt.datetime | None = None) -> CaseEvent:
    """Omflyttning: the stay continues at another ward, at the same or another hospital. The case (and its
    deadlines and payment clock) continues; the new ward takes over as sender."""
    actions.check(actor, case, "transfer", state=False)
    case = lock_case(case)
    actions.check_state(case, "transfer")
    if isinstance(to_ward, Unit):
        target: Unit | None = to_ward
    else:
        text = str(to_ward).strip()
        target = Unit.objects.filter(pk=int(text)).first() if text.isdecimal() else None
        target = target or Unit.objects.filter(hsa_id=text).first()
    if target is None or not target.is_active or target.kind != Unit.Kind.WARD or target.site_id is None:
        raise DomainError.single("to_ward", "OKAND-ENHET", _("Välj en aktiv vårdavdelning."))
    if target.pk == case.ward_id:
        raise DomainError.single("to_ward", "OMFLYTTNING", _("Patienten vårdas redan på den avdelningen."))
    at = at or _now()
    _not_before(at, case.admitted_at, "at", _("Omflyttningen kan inte vara före inskrivningen."))
    _not_future(at, "at")
    old_ward, old_site = case.ward, case.site
    case.ward = target
    case.site = target.site  # type: ignore[assignment]
    case.save(update_fields=["ward", "site"])
    Participant.objects.filter(case=case, unit=old_ward).update(
        status=Participant.Status.LEFT, needs_ack=False
    )
    participant, created = Participant.objects.get_or_create(
        case=case,
        unit=target,
        defaults={"role": Participant.Role.WARD, "addressing": Participant.Addressing.SENDER, "added_at": at},
    )
    if not created:
        Participant.objects.filter(pk=participant.pk).update(
            status=Participant.Status.ACTIVE, role=Participant.Role.WARD
        )
    involve(case.person, target, Involvement.Kind.INPATIENT_CASE, case.source, at=at)
    event = record_event(
        case,
        actor,
        Kind.TRANSFERRED,
        occurred_at=at,
        data={
            "from": _unit_ref(old_ward),
            "to": _unit_ref(target),
            "between_hospitals": old_site.pk != target.site_id,
        },
    )
    end_involvement(case.person, old_ward, case.source, at=at)
    return event


@transaction.atomic
def start_leave(
    actor: Actor, case: Case, at: dt.datetime | None = None, expected_return: dt.date | None = None
) -> CaseEvent:
    """Permission: the patient is away but still admitted."""
    actions.check(actor, case, "leave-start", state=False)
    case = lock_case(case)
    actions.check_state(case, "leave-start")
    at = at or _now()
    _not_before(at, case.admitted_at, "at", _("Permissionen kan inte börja före inskrivningen."))
    if expected_return and expected_return < timezone.localdate(at):
        raise DomainError.single(
            "expected_return", "DATUM-ORDNING", _("Återkomsten kan inte vara före permissionen.")
        )
    case.status = Status.ON_LEAVE
    case.save(update_fields=["status"])
    return record_event(
        case, actor, Kind.LEAVE_STARTED, occurred_at=at, data={"expected_return": _iso(expected_return)}
    )


@transaction.atomic
def end_leave(actor: Actor, case: Case, at: dt.datetime | None = None) -> CaseEvent:
    actions.check(actor, case, "leave-end", state=False)
    case = lock_case(case)
    actions.check_state(case, "leave-end")
    at = at or _now()
    started = (
        case.events.filter(kind=Kind.LEAVE_STARTED)
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)
        .first()
    )
    if started and at < started:
        raise DomainError.single("at", "DATUM-ORDNING", _("Permissionen kan inte sluta innan den började."))
    case.status = Status.ADMITTED
    case.save(update_fields=["status"])
    return record_event(case, actor, Kind.LEAVE_ENDED, occurred_at=at)


@transaction.atomic
def record_death(actor: Actor, case: Case, died_at: dt.datetime) -> CaseEvent:
    """The patient died during the stay: the case stops without a discharge notice; the person is deceased."""
    actions.check(actor, case, "death", state=False)
    case = lock_case(case)
    actions.check_state(case, "death")
    _not_before(died_at, case.admitted_at, "died_at", _("Dödsfallet kan inte vara före inskrivningen."))
    _not_future(died_at, "died_at")
    case.status = Status.DIED
    case.save(update_fields=["status"])
    person = case.person
    person.deceased_on = timezone.localdate(died_at)
    person.save(update_fields=["deceased_on", "updated_at"])
    record_change(actor, person, "person/avliden")
    return record_event(case, actor, Kind.DIED, occurred_at=died_at)


@transaction.atomic
def cancel_case(actor: Actor, case: Case, reason: str, text: str = "") -> CaseEvent:
    """Makulera: the case was wrong (wrong person, wrong stay, entered in error). Every unit's access ends."""
    actions.check(actor, case, "cancel-case", state=False)
    case = lock_case(case)
    actions.check_state(case, "cancel-case")
    if reason not in rules.CANCEL_REASONS or reason == "discharge_did_not_happen":
        raise DomainError.single("reason", "MAKULERING", _("Välj ett skäl till makuleringen."))
    case.status = Status.CANCELLED
    case.save(update_fields=["status"])
    event = record_event(
        case, actor, Kind.CANCELLED, data={"reason": reason, "text": limited("text", text, 500)}
    )
    end_involvement(case.person, None, case.source)
    return event


def _target_event(case: Case, event_id: int | str, kinds: Iterable[str]) -> CaseEvent:
    try:
        target = CaseEvent.objects.filter(case=case, pk=int(event_id), kind__in=list(kinds)).first()
    except (TypeError, ValueError):
        target = None
    if target is None:
        raise DomainError.single("target_event", "RATTELSE", _("Meddelandet finns inte i ärendet."))
    if CaseEvent.objects.filter(case=case, kind=Kind.NOTICE_CANCELLED, data__target_event=target.pk).exists():
        raise DomainError.single(
            "target_event", "FEL-STATUS", _("Meddelandet är redan annullerat."), status=409
        )
    return target


@transaction.atomic
def cancel_notice(
    actor: Actor, case: Case, target_event_id: int | str, reason: str, text: str = ""
) -> CaseEvent:
    """Annullering (MedCom AN_): a sent notice is voided, never deleted.

    * an admission notice: the receivers it went to leave the case and lose access;
    * a discharge notice: the discharge did not happen (utebliven utskrivning) — the case is open again and
      the ``discharged`` event it names is void for statistics and payment."""
    actions.check(actor, case, "cancel-notice")
    case = lock_case(case)
    target = _target_event(case, target_event_id, [Kind.ADMISSION_NOTICE_SENT, Kind.DISCHARGE_NOTICE_SENT])
    if reason not in rules.CANCEL_REASONS:
        raise DomainError.single("reason", "ANNULLERING", _("Välj ett skäl till annulleringen."))
    data: dict[str, Any] = {
        "target_event": target.pk,
        "notice": target.kind,
        "reason": reason,
        "text": limited("text", text, 500),
    }
    if target.kind == Kind.DISCHARGE_NOTICE_SENT:
        _require_state(case, (Status.DISCHARGED,))
        data["voids"] = [target.data.get("discharged_event"), target.pk]
        case.status = Status.ADMITTED
        case.discharged_at = None
        case.discharge_notice_sent_at = None
        case.save(update_fields=["status", "discharged_at", "discharge_notice_sent_at"])
    else:
        _require_state(case, OPEN)
        unit_ids = [r["id"] for r in target.data.get("recipients", [])]
        Participant.objects.filter(case=case, unit_id__in=unit_ids).update(
            status=Participant.Status.LEFT, needs_ack=False
        )
        for unit in Unit.objects.filter(pk__in=unit_ids):
            end_involvement(case.person, unit, case.source)
        if (
            not case.participants.exclude(role=Participant.Role.WARD)
            .filter(status=Participant.Status.ACTIVE)
            .exists()
        ):
            case.notice_sent_at = None
            case.notice_late = False
            case.save(update_fields=["notice_sent_at", "notice_late"])
    return record_event(case, actor, Kind.NOTICE_CANCELLED, data=data)


CORRECTABLE: dict[str, str] = {
    Kind.ADMISSION_NOTICE_SENT: "admitted_at",
    Kind.ADMITTED: "admitted_at",
    Kind.DISCHARGE_NOTICE_SENT: "discharged_at",
    Kind.DISCHARGED: "discharged_at",
}


@transaction.atomic
def correct_notice(
    actor: Actor, case: Case, target_event_id: int | str, new_time: dt.datetime, reason: str
) -> CaseEvent:
    """Rättelse (MedCom RE_): a wrong time in a sent notice is corrected by a new event naming the old one;
    the case takes the corrected time, the history keeps both."""
    actions.check(actor, case, "correct-notice")
    case = lock_case(case)
    target = _target_event(case, target_event_id, CORRECTABLE.keys())
    field = CORRECTABLE[target.kind]
    if not reason.strip():
        raise DomainError.single("reason", "RATTELSE", _("Ange varför uppgiften rättas."))
    _not_future(new_time, "new_time")
    if field == "admitted_at":
        later = [t for t in (case.discharge_ready_at, case.discharged_at) if t]
        if later and new_time > min(later):
            raise DomainError.single(
                "new_time",
                "DATUM-ORDNING",
                _("Inskrivningen måste vara före utskrivningsklar och utskrivning."),
            )
    else:
        if case.discharged_at is None:
            raise DomainError.single(
                "target_event", "FEL-STATUS", _("Patienten är inte utskriven."), status=409
            )
        _not_before(
            new_time,
            case.discharge_ready_at or case.admitted_at,
            "new_time",
            _("Utskrivningen kan inte vara före inskrivning eller utskrivningsklar."),
        )
        if case.discharge_info_sent_at and timezone.localdate(
            case.discharge_info_sent_at
        ) > timezone.localdate(new_time):
            raise DomainError.single(
                "new_time", "R-UTS-1", _("Informationen skulle då ha skickats efter utskrivningsdagen.")
            )
    old = getattr(case, field)
    setattr(case, field, new_time)
    case.save(update_fields=[field])
    return record_event(
        case,
        actor,
        Kind.NOTICE_CORRECTED,
        occurred_at=_now(),
        data={
            "target_event": target.pk,
            "field": field,
            "old": _iso(old),
            "new": _iso(new_time),
            "reason": limited("reason", reason, 500),
        },
    )


@transaction.atomic
def replace_reserve_number(actor: Actor, case: Case, new_person: Person) -> CaseEvent:
    """A reserve number replaced by the real personnummer: the reserve identity points to the real one, the
    case moves to it, and every unit of the case keeps access under the new identity."""
    actions.check(actor, case, "replace-reserve")
    case = lock_case(case)
    old = case.person
    if old.id_kind != IdKind.RESERVE:
        raise DomainError.single(
            "identifier", "RESERVNUMMER", _("Ärendet har inget reservnummer att ersätta.")
        )
    if new_person.id_kind == IdKind.RESERVE or new_person.pk == old.pk:
        raise DomainError.single(
            "identifier", "RESERVNUMMER", _("Ange personens riktiga person- eller samordningsnummer.")
        )
    old.replaced_by = new_person
    old.save(update_fields=["replaced_by", "updated_at"])
    for participant in case.participants.filter(status=Participant.Status.ACTIVE).select_related("unit"):
        involve(new_person, participant.unit, Involvement.Kind.INPATIENT_CASE, case.source)
    Case.objects.filter(person=old).update(person=new_person)
    case.person = new_person
    record_change(actor, old, f"case:{case.pk}/reservnummer-ersatt")
    return record_event(
        case,
        actor,
        Kind.NOTICE_CORRECTED,
        data={"field": "person", "old_identifier": old.identifier, "new_identifier": new_person.identifier},
    )


@transaction.atomic
def readdress_after_move(person: Person, user: Any, at: dt.datetime | None = None) -> list[CaseEvent]:
    """R-INS-7 follows the folkbokföring: the register has moved the person to another municipality (already
    saved on the person), so each open case whose admission notice went automatically to a municipality's
    contact point now goes to the new municipality's instead. Manually chosen recipients stay; the old
    municipality keeps access only for the grace period. Every open case gets a ``readdressed`` event that all
    its units see. ``user``: who triggered the refresh (or the register's system account); the event is
    recorded on the case's ward. ``Case.municipality`` (payment responsibility at admission) stays."""
    now = at or _now()
    events: list[CaseEvent] = []
    new_municipality = person.registered_municipality
    contact = (
        Unit.objects.filter(
            municipality=new_municipality, kind=Unit.Kind.MUNICIPAL_CONTACT, is_active=True
        ).first()
        if new_municipality is not None
        else None
    )
    actor = Actor(user=user, membership=None, channel="command")
    for case in Case.objects.select_for_update().filter(person=person, status__in=OPEN).order_by("pk"):
        removed: list[dict[str, Any]] = []
        added: list[dict[str, Any]] = []
        if case.notice_sent_at is not None:
            stale = (
                Participant.objects.filter(
                    case=case,
                    role=Participant.Role.MUNICIPALITY,
                    addressing=Participant.Addressing.AUTOMATIC,
                    status=Participant.Status.ACTIVE,
                )
                .exclude(unit=contact)
                .select_related("unit")
            )
            for participant in stale:
                participant.status = Participant.Status.LEFT
                participant.save(update_fields=["status"])
                end_involvement(person, participant.unit, case.source, at=now)
                removed.append(_unit_ref(participant.unit))
            already = (
                contact is not None
                and Participant.objects.filter(
                    case=case, unit=contact, status=Participant.Status.ACTIVE
                ).exists()
            )
            if contact is not None and not already:
                added = add_recipients(case, [contact], Participant.Addressing.AUTOMATIC, now)
        event = CaseEvent.objects.create(
            case=case,
            kind=Kind.READDRESSED,
            occurred_at=now,
            recorded_at=now,
            user=user,
            unit_id=case.ward_id,
            data={
                "reason": "folkbokforing",
                "municipality": (
                    {"scb_code": new_municipality.scb_code, "name": new_municipality.name}
                    if new_municipality is not None
                    else None
                ),
                "removed": removed,
                "added": added,
                "manual_needed": case.notice_sent_at is not None and contact is None,
            },
        )
        Case.objects.filter(pk=case.pk).update(last_event_at=now)
        Participant.objects.filter(case=case, status=Participant.Status.ACTIVE).update(
            needs_ack=True, unacked_since=Coalesce(F("unacked_since"), Value(now))
        )
        keep_inbox_in_step(case)
        log_access(actor, person, AccessLogEntry.Action.UPDATE, f"case:{case.pk}/readdressed", True)
        events.append(event)
    return events
