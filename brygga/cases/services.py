"""Every state change of an inpatient case, one named function each.

Each function checks the actor's permission and unit, validates the input (a DomainError names the field and
the rule, and — raised inside ``transaction.atomic`` — leaves nothing half-written), changes the case, writes
its immutable CaseEvent, opens the person to every receiving unit (``involve``) and writes the access log
(``record_change``), all in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.db.models import Case as DbCase
from django.db.models import DateTimeField, F, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.access.models import AccessLogEntry, DenialReason, Involvement
from brygga.access.services import (
    end_involvement,
    involve,
    involve_many,
    log_access,
    open_person,
    record_change,
    refused_person,
)
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.cases import actions, rules, selectors
from brygga.cases.models import Case, CaseEvent, Meeting, Participant, PlanningBasis
from brygga.cases.signals import events_recorded
from brygga.cases.video import video_provider
from brygga.core.calendar import add_calendar_days
from brygga.core.errors import DomainError, NotFound, Problem
from brygga.core.limits import limited, too_long
from brygga.messaging import services as messaging
from brygga.messaging.models import Message
from brygga.organisations.models import Site, Unit
from brygga.people.identifiers import IdKind
from brygga.people.models import Person

Kind = CaseEvent.Kind
Status = Case.Status
OPEN = (Status.ADMITTED, Status.ON_LEAVE)
RECEIVING_KINDS: dict[str, str] = {
    Unit.Kind.MUNICIPAL_CONTACT: Participant.Role.MUNICIPALITY,
    Unit.Kind.HOME_HEALTH: Participant.Role.MUNICIPALITY,
    Unit.Kind.SOCIAL_SERVICES: Participant.Role.MUNICIPALITY,
    Unit.Kind.PRIMARY_CARE: Participant.Role.PRIMARY_CARE,
}
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
# How far back an admission may be registered, and how far after it the expected discharge may lie: a date
# outside these is a typing error (an admission in 1999), refused as DATUM-RIMLIG, never stored.
ADMISSION_MAX_AGE = dt.timedelta(days=366)
EXPECTED_STAY_MAX_DAYS = 366


# --- reading ------------------------------------------------------------------------------------------------


def unit_cases(unit: Unit | None) -> QuerySet[Case]:
    """The cases ``unit`` takes part in as an active participant: the need-to-know scope ``open_case`` checks,
    for other apps that must know which cases a user could open (without reading or logging them)."""
    if unit is None:
        return Case.objects.none()
    return Case.objects.filter(participants__unit=unit, participants__status=Participant.Status.ACTIVE)


def open_case(actor: Actor, case_id: int | str, what: str = "", action: str = "") -> Case:
    """The case if the actor's role may read cases and the active unit takes part in it; the read is logged,
    once (as ``action``: a read, or an export for a printout). A case of another unit and a case that does not
    exist both raise NotFound."""
    try:
        pk = int(case_id)
    except (TypeError, ValueError) as exc:
        raise NotFound(DenialReason.NOT_FOUND) from exc
    if not actor.can(Perm.CASE_READ) or actor.unit is None:
        raise NotFound(DenialReason.ROLE, refused_person(Case, pk))
    case = (
        unit_cases(actor.unit)
        .select_related("person", "ward", "site", "municipality", "coordinator_unit")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        refused_for = refused_person(Case, pk)
        raise NotFound(DenialReason.NO_INVOLVEMENT if refused_for else DenialReason.NOT_FOUND, refused_for)
    open_person(
        actor,
        case.person_id,
        what=f"case:{case.pk}{'/' + what if what else ''}",
        action=action or AccessLogEntry.Action.READ,
    )
    return case


def participant_for(actor: Actor, case: Case) -> Participant | None:
    return Participant.objects.filter(case=case, unit=actor.unit, status=Participant.Status.ACTIVE).first()


# --- helpers ------------------------------------------------------------------------------------------------


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _user_label(actor: Actor) -> str:
    return actor.user.get_full_name() or actor.user.username


def _now() -> dt.datetime:
    return timezone.now()


def lock_case(case: Case) -> Case:
    """Re-read the case under a row lock, so two concurrent changes cannot both pass the state checks."""
    return Case.objects.select_for_update().select_related("person", "ward", "site").get(pk=case.pk)


def record_event(
    case: Case,
    actor: Actor,
    kind: str,
    occurred_at: dt.datetime | None = None,
    data: dict[str, Any] | None = None,
    notify: bool = True,
    involved: bool | None = None,
) -> CaseEvent:
    """Write the event, mark it unacknowledged for every other active unit, and log the change. ``involved``:
    the caller knows the active unit's involvement (it just opened it), so the log need not look it up."""
    now = _now()
    assert actor.unit is not None
    event = CaseEvent.objects.create(
        case=case,
        kind=kind,
        occurred_at=occurred_at or now,
        recorded_at=now,
        user=actor.user,
        unit=actor.unit,
        data=data or {},
    )
    case.last_event_at = now
    events_recorded.send(sender=CaseEvent, events=[event])
    pending = _inbox_pending.get()
    if pending is None:
        Case.objects.filter(pk=case.pk).update(last_event_at=now)
        keep_inbox_in_step(case)
    else:
        pending[case.pk] = now
    if notify:
        Participant.objects.filter(case=case, status=Participant.Status.ACTIVE).exclude(
            unit=actor.unit
        ).update(needs_ack=True, unacked_since=Coalesce(F("unacked_since"), Value(now)))
    action = AccessLogEntry.Action.CREATE if kind == Kind.ADMITTED else AccessLogEntry.Action.UPDATE
    what = f"case:{case.pk}/{kind}"
    if involved is None:
        record_change(actor, case.person, what, action)
    else:
        log_access(actor, case.person, action, what, had_involvement=involved)
    return event


# Case pk -> its newest event time, while ``inbox_in_step_once`` defers the inbox columns to the end.
_inbox_pending: ContextVar[dict[int, dt.datetime] | None] = ContextVar("brygga_inbox_pending", default=None)


@contextmanager
def inbox_in_step_once() -> Iterator[None]:
    """Within the block, ``record_event`` writes ``last_event_at`` and the inbox columns once per case at the
    end instead of once per event (the result is the same: the last event's time, the case's final state). Use
    it inside the transaction of a request that makes several changes, e.g. admission + notice."""
    if _inbox_pending.get() is not None:
        yield
        return
    pending: dict[int, dt.datetime] = {}
    token = _inbox_pending.set(pending)
    try:
        yield
    finally:
        _inbox_pending.reset(token)
    for pk, at in pending.items():
        Case.objects.filter(pk=pk).update(last_event_at=at)
        keep_inbox_in_step(Case(pk=pk))


def keep_inbox_in_step(case: Case) -> None:
    """Copy the case's status, last event and each role's next open deadline onto its participant rows, so the
    inbox can filter, order and page in the database (ADR 0105). Called by ``record_event`` — every state
    change writes an event after changing the case. The case is read again first: a caller may hold a stale
    copy."""
    case = Case.objects.get(pk=case.pk)
    due = {role: selectors.next_due_at(case, role) for role in Participant.Role.values}
    Participant.objects.filter(case=case).update(
        case_status=case.status,
        last_event_at=case.last_event_at,
        next_due_at=DbCase(
            *[When(role=role, then=Value(at)) for role, at in due.items() if at is not None],
            default=Value(None, output_field=DateTimeField()),
            output_field=DateTimeField(),
        ),
    )


def _require(actor: Actor, perm: Perm, field: str = "") -> None:
    if not actor.can(perm):
        raise DomainError.single(
            field, "BEHORIGHET", _("Din roll i den aktiva enheten får inte göra detta."), status=403
        )


def _require_ward(actor: Actor, case: Case, perm: Perm = Perm.CASE_UPDATE) -> None:
    _require(actor, perm)
    if actor.unit is None or actor.unit.pk != case.ward_id:
        raise DomainError.single(
            "unit", "AVSANDARE", _("Bara den vårdavdelning där patienten vårdas kan göra detta."), status=403
        )


def _require_state(case: Case, allowed: Iterable[str], field: str = "status") -> None:
    allowed = tuple(allowed)
    if case.status not in allowed:
        raise DomainError.single(
            field,
            "FEL-STATUS",
            _("Ärendet har status %(status)s; steget går inte att göra nu.")
            % {"status": case.get_status_display()},
            status=409,
        )


def _not_before(
    value: dt.datetime | dt.date, earliest: dt.datetime | dt.date, field: str, message: str
) -> None:
    if value < earliest:
        raise DomainError.single(field, "DATUM-ORDNING", message)


def _not_future(value: dt.datetime, field: str) -> None:
    if value > _now() + FUTURE_TOLERANCE:
        raise DomainError.single(field, "DATUM-FRAMTID", _("Tidpunkten får inte ligga i framtiden."))


def _receiver(actor: Actor, case: Case, perm: Perm = Perm.CASE_RECEIVE) -> Participant:
    _require(actor, perm)
    participant = participant_for(actor, case)
    if participant is None or participant.role == Participant.Role.WARD:
        raise DomainError.single(
            "unit", "MOTTAGARE", _("Bara en mottagande enhet i ärendet kan göra detta."), status=403
        )
    return participant


def _unit_ref(unit: Unit) -> dict[str, Any]:
    return {"id": unit.pk, "hsa_id": unit.hsa_id, "name": unit.name}


# --- admission ----------------------------------------------------------------------------------------------


def default_recipients(person: Person) -> list[Unit]:
    """R-INS-7: the berörda enheter follow the person's folkbokföring (the municipality's contact point) and
    listing (the vårdcentral). Empty parts mean the sender must choose manually."""
    recipients: list[Unit] = []
    if person.registered_municipality_id:
        contact = Unit.objects.filter(
            municipality_id=person.registered_municipality_id,
            kind=Unit.Kind.MUNICIPAL_CONTACT,
            is_active=True,
        ).first()
        if contact:
            recipients.append(contact)
    if person.listed_unit_id and person.listed_unit and person.listed_unit.is_active:
        recipients.append(person.listed_unit)
    return recipients


def admission_problems(
    *,
    care_type: str,
    admitted_at: dt.datetime,
    expected_discharge_date: dt.date | None,
    need_assessed_at: dt.datetime | None,
    has_open_stay: bool,
    external_id_taken: bool,
    now: dt.datetime,
) -> list[Problem]:
    """The rules a new admission is checked against, in one place for ``admit`` and the batch ingest (which
    looks up the open stays and taken external ids for a whole batch at once and passes the answers in)."""
    problems: list[Problem] = []
    if care_type not in Case.CareType.values:
        problems.append(Problem("care_type", "VARDFORM", _("Välj somatisk eller psykiatrisk vård.")))
    if admitted_at > now + FUTURE_TOLERANCE:
        problems.append(
            Problem("admitted_at", "DATUM-FRAMTID", _("Inskrivningen får inte ligga i framtiden."))
        )
    if expected_discharge_date and expected_discharge_date < timezone.localdate(admitted_at):
        problems.append(
            Problem(
                "expected_discharge_date",
                "DATUM-ORDNING",
                _("Beräknat utskrivningsdatum kan inte vara före inskrivningen."),
            )
        )
    if need_assessed_at and need_assessed_at < admitted_at:
        problems.append(
            Problem("need_assessed_at", "DATUM-ORDNING", _("Bedömningen kan inte vara före inskrivningen."))
        )
    if admitted_at < now - ADMISSION_MAX_AGE:
        problems.append(
            Problem(
                "admitted_at",
                "DATUM-RIMLIG",
                _("Inskrivningen kan inte ligga mer än ett år bakåt i tiden. Kontrollera datumet."),
            )
        )
    if (
        expected_discharge_date
        and (expected_discharge_date - timezone.localdate(admitted_at)).days > EXPECTED_STAY_MAX_DAYS
    ):
        problems.append(
            Problem(
                "expected_discharge_date",
                "DATUM-RIMLIG",
                _("Beräknat utskrivningsdatum kan inte ligga mer än ett år efter inskrivningen."),
            )
        )
    if has_open_stay:
        problems.append(
            Problem("identifier", "ETT-VARDTILLFALLE", _("Personen har redan ett pågående vårdtillfälle."))
        )
    if external_id_taken:
        problems.append(Problem("external_id", "DUBBLETT", _("Ett ärende med detta externa id finns redan.")))
    return problems


def open_stay_problem(actor: Actor, person: Person) -> Problem | None:
    """ETT-VARDTILLFALLE: the person already has an open stay. When the actor's unit takes part in that stay
    the refusal names it and links to it, so the user goes on there instead of meeting a dead end; a stay
    elsewhere is not named (need-to-know), only said to exist."""
    existing = Case.objects.filter(person=person, status__in=OPEN).only("pk").first()
    if existing is None:
        return None
    if unit_cases(actor.unit).filter(pk=existing.pk).exists():
        return Problem(
            "identifier",
            "ETT-VARDTILLFALLE",
            _("Personen har redan ett pågående vårdtillfälle (ärende %(n)s). Fortsätt i det ärendet.")
            % {"n": existing.pk},
            link=reverse("cases:detail", args=[existing.pk]),
        )
    return Problem(
        "identifier",
        "ETT-VARDTILLFALLE",
        _(
            "Personen har redan ett pågående vårdtillfälle på en annan enhet. Det avslutas eller flyttas "
            "hit (överflyttning) av den enheten innan ett nytt ärende kan skapas."
        ),
    )


@transaction.atomic
def admit_with_notice(
    actor: Actor,
    person: Person,
    *,
    admitted_at: dt.datetime,
    care_type: str,
    expected_discharge_date: dt.date | None = None,
    need_assessed: bool = True,
    send_notice: bool = True,
) -> Case:
    """The admission form: open the case and, when the need is assessed at admission and the user asked for
    it, send the admission notice, all in one transaction. A refused notice (R-INS-4: no expected discharge
    date) leaves no case behind, so the user corrects the form and sends it again."""
    case = admit(
        actor,
        person,
        admitted_at=admitted_at,
        care_type=care_type,
        expected_discharge_date=expected_discharge_date,
        need_assessed_at=admitted_at if need_assessed else None,
    )
    if need_assessed and send_notice:
        send_admission_notice(actor, case)
    return case


def admit(
    actor: Actor,
    person: Person,
    *,
    admitted_at: dt.datetime,
    care_type: str,
    expected_discharge_date: dt.date | None = None,
    need_assessed_at: dt.datetime | None = None,
    external_id: str = "",
) -> Case:
    """Open the case for an inpatient stay at the actor's ward. ``need_assessed_at`` is when the physician
    judged that the patient may need efforts after discharge (R-INS-1); it starts the 24-hour deadline.
    Its checks are ``admission_problems``, which the batch ingest (cases.ingest, ADR 0107) calls too."""
    _require(actor, Perm.CASE_CREATE)
    ward = actor.unit
    if ward is None or ward.kind != Unit.Kind.WARD or ward.site_id is None:
        raise DomainError.single("ward", "OKAND-ENHET", _("Ett ärende skapas av en vårdavdelning."))
    problems = admission_problems(
        care_type=care_type,
        admitted_at=admitted_at,
        expected_discharge_date=expected_discharge_date,
        need_assessed_at=need_assessed_at,
        has_open_stay=False,  # checked below, with a link to the stay
        external_id_taken=bool(external_id)
        and Case.objects.filter(ward=ward, external_id=external_id).exists(),
        now=_now(),
    )
    open_stay = open_stay_problem(actor, person)
    if open_stay is not None:
        problems.append(open_stay)
    if problems:
        raise DomainError(problems)
    site = ward.site
    if site is None:  # excluded above; kept for the type checker without an assert
        raise DomainError.single("ward", "OKAND-ENHET", _("Ett ärende skapas av en vårdavdelning."))
    try:
        # The partial unique constraint one_open_stay_per_person is the guard under any timing: two wards
        # admitting the same person at once, or a double click, both reach this insert; the database lets
        # one through and the other waits, then fails here and gets the same refusal as the check above.
        # The whole write is one savepoint, so the refusal can still read which stay won.
        with transaction.atomic():
            return _open_case(
                actor,
                person,
                ward,
                site,
                care_type=care_type,
                admitted_at=admitted_at,
                need_assessed_at=need_assessed_at,
                expected_discharge_date=expected_discharge_date,
                external_id=external_id,
            )
    except IntegrityError as exc:
        lost = open_stay_problem(actor, person) or Problem(
            "external_id", "DUBBLETT", _("Ett ärende med detta externa id finns redan.")
        )
        raise DomainError([lost], status=409) from exc


def _open_case(
    actor: Actor,
    person: Person,
    ward: Unit,
    site: Site,
    *,
    care_type: str,
    admitted_at: dt.datetime,
    need_assessed_at: dt.datetime | None,
    expected_discharge_date: dt.date | None,
    external_id: str,
) -> Case:
    case = Case.objects.create(
        person=person,
        municipality=person.registered_municipality,
        ward=ward,
        site=site,
        care_type=care_type,
        admitted_at=admitted_at,
        need_assessed_at=need_assessed_at,
        expected_discharge_date=expected_discharge_date,
        external_id=external_id,
    )
    Participant.objects.create(
        case=case,
        unit=ward,
        role=Participant.Role.WARD,
        addressing=Participant.Addressing.SENDER,
        added_at=_now(),
        needs_ack=False,
    )
    # A new case is a new source: nothing to get or reopen (the unique constraint stays the guard).
    involve_many([(person.pk, ward, case.source)], Involvement.Kind.INPATIENT_CASE, new_sources=True)
    record_event(
        case,
        actor,
        Kind.ADMITTED,
        notify=False,  # only the ward itself takes part yet
        involved=True,  # just opened above
        occurred_at=admitted_at,
        data={
            "ward": _unit_ref(ward),
            "site": site.name,
            "care_type": care_type,
            "municipality": person.registered_municipality.scb_code
            if person.registered_municipality
            else None,
            "expected_discharge_date": _iso(expected_discharge_date),
            "need_assessed_at": _iso(need_assessed_at),
        },
    )
    return case


def _notice_field_problems(person: Person, case: Case) -> list[Problem]:
    """R-INS-4: namn, personnummer, folkbokföringsadress and beräknad tidpunkt för utskrivning."""
    problems = []
    if not (person.given_name.strip() and person.family_name.strip()):
        problems.append(Problem("name", "R-INS-4", _("Patientens namn saknas.")))
    if not person.identifier:
        problems.append(Problem("identifier", "R-INS-4", _("Personnummer eller reservnummer saknas.")))
    if not (person.street_address.strip() and person.postal_code.strip() and person.city.strip()):
        problems.append(
            Problem("address", "R-INS-4", _("Folkbokföringsadressen saknas eller är ofullständig."))
        )
    if case.expected_discharge_date is None:
        problems.append(
            Problem("expected_discharge_date", "R-INS-4", _("Beräknat utskrivningsdatum måste anges."))
        )
    return problems


def resolve_recipients(units: Iterable[Unit | int | str]) -> list[Unit]:
    resolved: list[Unit] = []
    for ref in units:
        unit: Unit | None
        if isinstance(ref, Unit):
            unit = ref
        else:
            text = str(ref).strip()
            unit = Unit.objects.filter(pk=int(text)).first() if text.isdigit() else None
            unit = unit or Unit.objects.filter(hsa_id=text).first()
        if unit is None or not unit.is_active:
            raise DomainError.single(
                "recipients",
                "OKAND-ENHET",
                _("Enheten %(ref)s finns inte eller är inte aktiv.") % {"ref": ref},
            )
        if unit.kind not in RECEIVING_KINDS:
            raise DomainError.single(
                "recipients",
                "R-INS-7",
                _("%(unit)s tar inte emot inskrivningsmeddelanden.") % {"unit": unit.name},
            )
        if unit not in resolved:
            resolved.append(unit)
    return resolved


def _add_recipients(case: Case, units: list[Unit], addressing: str, at: dt.datetime) -> list[dict[str, Any]]:
    """Add the units as participants and open the person to them: what exists is read once, the rest inserted
    in one statement each (the case row is locked by the caller; the unique constraints stay the guard)."""
    unit_ids = [u.pk for u in units]
    existing = {p.unit_id: p for p in Participant.objects.filter(case=case, unit_id__in=unit_ids)}
    reactivate = [p.pk for p in existing.values() if p.status != Participant.Status.ACTIVE]
    if reactivate:
        Participant.objects.filter(pk__in=reactivate).update(
            status=Participant.Status.ACTIVE, rejected_reason="", rejected_text=""
        )
    Participant.objects.bulk_create(
        [
            Participant(
                case=case, unit=unit, role=RECEIVING_KINDS[unit.kind], addressing=addressing, added_at=at
            )
            for unit in units
            if unit.pk not in existing
        ]
    )
    involve_many([(case.person_id, u, case.source) for u in units], Involvement.Kind.INPATIENT_CASE, at=at)
    return [{**_unit_ref(unit), "addressing": addressing} for unit in units]


@transaction.atomic
def send_admission_notice(
    actor: Actor,
    case: Case,
    *,
    recipients: Iterable[Unit | int | str] | None = None,
    assessed_at: dt.datetime | None = None,
) -> CaseEvent:
    """Send the inskrivningsmeddelande (R-INS-1..4, R-INS-7). Without ``recipients`` the units are addressed
    from the person's folkbokföring and listing; a list overrides that (manual addressing). ``assessed_at``
    records a later assessment, which moves the 24-hour deadline (R-INS-3)."""
    actions.check(actor, case, "notice", state=False)
    case = lock_case(case)
    actions.check_state(case, "notice")
    if case.notice_sent_at is not None:
        raise DomainError.single(
            "notice",
            "FEL-STATUS",
            _("Inskrivningsmeddelandet är redan skickat; lägg till mottagare i stället."),
            status=409,
        )
    now = _now()
    if assessed_at is not None:
        _not_before(
            assessed_at, case.admitted_at, "assessed_at", _("Bedömningen kan inte vara före inskrivningen.")
        )
        _not_future(assessed_at, "assessed_at")
        case.need_assessed_at = assessed_at
    elif case.need_assessed_at is None:
        case.need_assessed_at = case.admitted_at  # R-INS-2: judged at admission
    person = case.person
    problems = _notice_field_problems(person, case)
    manual = recipients is not None
    units = resolve_recipients(recipients) if recipients is not None else default_recipients(person)
    if not units:
        problems.append(
            Problem(
                "recipients",
                "R-INS-7",
                _("Ingen mottagare kunde väljas från folkbokföring och listning; välj enheter manuellt."),
            )
        )
    if problems:
        raise DomainError(problems)
    due = case.notice_due_at
    assert due is not None
    case.notice_sent_at = now
    case.notice_late = now > due
    case.save(update_fields=["need_assessed_at", "notice_sent_at", "notice_late"])
    addressing = Participant.Addressing.MANUAL if manual else Participant.Addressing.AUTOMATIC
    added = _add_recipients(case, units, addressing, now)
    return record_event(
        case,
        actor,
        Kind.ADMISSION_NOTICE_SENT,
        occurred_at=now,
        data={
            "recipients": added,
            "assessed_at": _iso(case.need_assessed_at),
            "due_at": _iso(due),
            "late": case.notice_late,
            "rule": rules.notice_rule(case.admitted_at, case.need_assessed_at),
            "expected_discharge_date": _iso(case.expected_discharge_date),
        },
    )


@transaction.atomic
def add_recipient(actor: Actor, case: Case, unit: Unit | int | str) -> CaseEvent:
    """Send the admission notice to one more unit (manual addressing, e.g. after a rejection)."""
    actions.check(actor, case, "add-recipient", state=False)
    case = lock_case(case)
    actions.check_state(case, "add-recipient")
    if case.notice_sent_at is None:
        raise DomainError.single(
            "notice", "FEL-STATUS", _("Skicka inskrivningsmeddelandet först."), status=409
        )
    units = resolve_recipients([unit])
    if Participant.objects.filter(case=case, unit=units[0], status=Participant.Status.ACTIVE).exists():
        raise DomainError.single("recipients", "DUBBLETT", _("Enheten är redan mottagare i ärendet."))
    now = _now()
    added = _add_recipients(case, units, Participant.Addressing.MANUAL, now)
    return record_event(
        case, actor, Kind.ADMISSION_NOTICE_SENT, occurred_at=now, data={"recipients": added, "added": True}
    )


@transaction.atomic
def reject_notice(actor: Actor, case: Case, reason: str, text: str = "") -> CaseEvent:
    """R-INS-7: a receiving unit rejects a misdirected notice with a reason. The sender sees the rejection;
    the rejecting unit's access to the person ends (after the grace period)."""
    participant = actions.check(actor, case, "reject")
    case = lock_case(case)
    if reason not in rules.REJECTION_REASONS:
        raise DomainError.single("reason", "R-INS-7", _("Välj ett skäl till att meddelandet avvisas."))
    if reason == "other" and not text.strip():
        raise DomainError.single("text", "R-INS-7", _("Beskriv skälet."))
    if case.discharged_at is not None:
        raise DomainError.single(
            "status", "FEL-STATUS", _("Ett utskrivet ärende kan inte avvisas."), status=409
        )
    participant.status = Participant.Status.REJECTED
    participant.rejected_reason = reason
    participant.rejected_text = limited("text", text, 500)
    participant.needs_ack = False
    participant.save(update_fields=["status", "rejected_reason", "rejected_text", "needs_ack"])
    event = record_event(
        case,
        actor,
        Kind.ADMISSION_NOTICE_REJECTED,
        data={
            "unit": _unit_ref(participant.unit),
            "reason": reason,
            "reason_label": str(rules.REJECTION_REASONS[reason]),
            "text": participant.rejected_text,
        },
    )
    end_involvement(case.person, participant.unit, case.source)
    return event


# --- during the stay ----------------------------------------------------------------------------------------


@transaction.atomic
def change_expected_date(
    actor: Actor, case: Case, new_date: dt.date | None, reason: str, comment: str = ""
) -> CaseEvent:
    """R-INS-5: the expected discharge date is a versioned value; each change records the old and new date
    and a coded reason, and notifies the receivers."""
    actions.check(actor, case, "expected-date", state=False)
    case = lock_case(case)
    actions.check_state(case, "expected-date")
    problems = []
    if new_date is None:
        problems.append(Problem("expected_discharge_date", "R-INS-5", _("Ange det nya datumet.")))
    elif new_date < timezone.localdate(case.admitted_at):
        problems.append(
            Problem(
                "expected_discharge_date",
                "DATUM-ORDNING",
                _("Beräknat utskrivningsdatum kan inte vara före inskrivningen."),
            )
        )
    elif new_date == case.expected_discharge_date:
        problems.append(Problem("expected_discharge_date", "R-INS-5", _("Datumet är oförändrat.")))
    if reason not in rules.EXPECTED_DATE_REASONS:
        problems.append(Problem("reason", "R-INS-5", _("Välj en orsak till ändringen.")))
    elif reason == "other" and not comment.strip():
        problems.append(Problem("comment", "R-INS-5", _("Beskriv orsaken.")))
    if problems:
        raise DomainError(problems)
    old = case.expected_discharge_date
    case.expected_discharge_date = new_date
    case.save(update_fields=["expected_discharge_date"])
    return record_event(
        case,
        actor,
        Kind.EXPECTED_DATE_CHANGED,
        data={
            "old": _iso(old),
            "new": _iso(new_date),
            "reason": reason,
            "comment": limited("comment", comment, 500),
        },
    )


def _sip_due(case: Case) -> dt.datetime | None:
    if case.sip_needed and case.discharge_ready_at and case.sip_summons_sent_at is None:
        # Calendar days on local dates (R-SIP-K-1): the same wall-clock time three days later, across DST.
        return add_calendar_days(case.discharge_ready_at, rules.sip_summons_deadline_days())
    return None


@transaction.atomic
def set_discharge_ready(actor: Actor, case: Case, at: dt.datetime | None = None) -> CaseEvent:
    """R-DEF-UK-1, R-UK-1, R-UK-3: only a physician (Perm.CASE_SET_DISCHARGE_READY) marks the patient
    discharge-ready; the exact time and the physician are stored. Starts the SIP summons deadline when both
    principals' efforts are needed (R-SIP-K-1)."""
    if not actor.can(Perm.CASE_SET_DISCHARGE_READY):
        raise DomainError.single(
            "discharge_ready_at",
            "R-DEF-UK-1",
            _("Bara behandlande läkare kan bedöma att patienten är utskrivningsklar."),
            status=403,
        )
    actions.check(actor, case, "discharge-ready", state=False)
    case = lock_case(case)
    actions.check_state(case, "discharge-ready")
    if case.discharge_ready_at is not None:
        raise DomainError.single(
            "discharge_ready_at", "FEL-STATUS", _("Patienten är redan utskrivningsklar."), status=409
        )
    at = at or _now()
    _not_before(
        at, case.admitted_at, "discharge_ready_at", _("Utskrivningsklar kan inte vara före inskrivningen.")
    )
    _not_future(at, "discharge_ready_at")
    case.discharge_ready_at = at
    case.discharge_ready_by = actor.user
    case.sip_summons_due_at = _sip_due(case)
    case.save(update_fields=["discharge_ready_at", "discharge_ready_by", "sip_summons_due_at"])
    return record_event(
        case,
        actor,
        Kind.DISCHARGE_READY_SET,
        occurred_at=at,
        data={
            "at": _iso(at),
            "physician": _user_label(actor),
            "sip_needed": case.sip_needed,
            "sip_summons_due_at": _iso(case.sip_summons_due_at),
        },
    )


@transaction.atomic
def withdraw_discharge_ready(
    actor: Actor, case: Case, reason: str, at: dt.datetime | None = None
) -> CaseEvent:
    """R-UK-2: the physician withdraws discharge-ready; all units are told at once; payment stops."""
    if not actor.can(Perm.CASE_SET_DISCHARGE_READY):
        raise DomainError.single(
            "discharge_ready_at",
            "R-DEF-UK-1",
            _("Bara behandlande läkare kan återta bedömningen utskrivningsklar."),
            status=403,
        )
    actions.check(actor, case, "withdraw-discharge-ready", state=False)
    case = lock_case(case)
    actions.check_state(case, "withdraw-discharge-ready")
    if case.discharge_ready_at is None:
        raise DomainError.single(
            "discharge_ready_at", "FEL-STATUS", _("Patienten är inte utskrivningsklar."), status=409
        )
    if not reason.strip():
        raise DomainError.single("reason", "R-UK-2", _("Ange varför bedömningen återtas."))
    at = at or _now()
    _not_before(at, case.discharge_ready_at, "at", _("Återtagandet kan inte vara före bedömningen."))
    previous = case.discharge_ready_at
    case.discharge_ready_at = None
    case.discharge_ready_by = None
    if case.sip_summons_sent_at is None:
        case.sip_summons_due_at = None  # the 3-day clock starts again at the next discharge-ready
    case.save(update_fields=["discharge_ready_at", "discharge_ready_by", "sip_summons_due_at"])
    return record_event(
        case,
        actor,
        Kind.DISCHARGE_READY_WITHDRAWN,
        occurred_at=at,
        data={"withdrawn_ready_at": _iso(previous), "reason": limited("reason", reason, 500)},
    )


@transaction.atomic
def appoint_coordinator(actor: Actor, case: Case, name: str, phone: str = "") -> CaseEvent:
    """R-FVK-1: the vårdcentral that received the notice appoints the fast vårdkontakt before discharge."""
    participant = actions.check(actor, case, "coordinator", state=False)
    case = lock_case(case)
    actions.check_state(case, "coordinator")
    if not name.strip():
        raise DomainError.single("coordinator_name", "R-FVK-1", _("Ange namnet på den fasta vårdkontakten."))
    previous = case.coordinator_name
    case.coordinator_name = limited("coordinator_name", name, 200)
    case.coordinator_phone = limited("coordinator_phone", phone, 40)
    case.coordinator_unit = participant.unit
    case.save(update_fields=["coordinator_name", "coordinator_phone", "coordinator_unit"])
    return record_event(
        case,
        actor,
        Kind.COORDINATOR_APPOINTED,
        data={
            "name": case.coordinator_name,
            "phone": case.coordinator_phone,
            "unit": _unit_ref(participant.unit),
            "replaces": previous,
        },
    )


@transaction.atomic
def save_planning_basis(
    actor: Actor,
    case: Case,
    *,
    answers: dict[str, str],
    needs: dict[str, str],
    needs_text: dict[str, str] | None = None,
    nursing_status: dict[str, str] | None = None,
    medications: str = "",
    consent: str = "",
) -> PlanningBasis:
    """The structured planning basis. Every question and every receiver's need is mandatory; "vet_ej" is an
    accepted, counted answer. Needs from both principals make the SIP summons deadline apply (R-SIP-K-1)."""
    actions.check(actor, case, "planning", state=False)
    case = lock_case(case)
    actions.check_state(case, "planning")
    problems = []
    clean_answers: dict[str, str] = {}
    for key, label in rules.PLANNING_QUESTIONS.items():
        value = (answers.get(key) or "").strip()
        if value not in rules.ANSWERS:
            problems.append(
                Problem(
                    f"answers.{key}",
                    "PLAN-OBLIGATORISK",
                    _("Svara på: %(q)s (ja, nej eller vet ej).") % {"q": label},
                )
            )
        clean_answers[key] = value
    clean_needs: dict[str, dict[str, str]] = {}
    for key, label in rules.NEEDS.items():
        value = (needs.get(key) or "").strip()
        if value not in rules.ANSWERS:
            problems.append(
                Problem(
                    f"needs.{key}",
                    "PLAN-OBLIGATORISK",
                    _("Ange behov av %(q)s (ja, nej eller vet ej).") % {"q": label},
                )
            )
        text = ((needs_text or {}).get(key) or "").strip()
        if too := too_long(f"needs_text.{key}", text, rules.TEXT_LIMITS["needs_text"]):
            problems.append(too)
        clean_needs[key] = {"answer": value, "text": text}
    if consent and consent not in rules.ANSWERS:
        problems.append(Problem("consent", "R-SEK-3", _("Samtycke anges som ja, nej eller vet ej.")))
    nursing = {k: (v or "").strip() for k, v in (nursing_status or {}).items() if k in rules.NURSING_AREAS}
    for k, v in nursing.items():
        if too := too_long(f"nursing.{k}", v, rules.TEXT_LIMITS["nursing"]):
            problems.append(too)
    if too := too_long("medications", medications.strip(), rules.TEXT_LIMITS["medications"]):
        problems.append(too)
    if problems:
        raise DomainError(problems)
    unknown = sum(1 for v in clean_answers.values() if v == "vet_ej") + sum(
        1 for v in clean_needs.values() if v["answer"] == "vet_ej"
    )
    basis, _created = PlanningBasis.objects.update_or_create(
        case=case,
        defaults={
            "answers": clean_answers,
            "needs": clean_needs,
            "nursing_status": nursing,
            "medications": medications.strip(),
            "consent": consent,
            "unknown_count": unknown,
            "updated_at": _now(),
            "updated_by": actor.user,
        },
    )
    region = clean_needs["primary_care"]["answer"] == "ja"
    municipal = any(clean_needs[k]["answer"] == "ja" for k in rules.MUNICIPAL_NEEDS)
    case.sip_needed = region and municipal
    case.sip_summons_due_at = _sip_due(case)
    case.save(update_fields=["sip_needed", "sip_summons_due_at"])
    record_event(
        case,
        actor,
        Kind.PLANNING_UPDATED,
        data={
            "unknown_count": unknown,
            "sip_needed": case.sip_needed,
            "needs": {k: v["answer"] for k, v in clean_needs.items()},
        },
    )
    return basis


@transaction.atomic
def set_checklist_item(actor: Actor, case: Case, key: str, done: bool = True) -> CaseEvent:
    """Tick (or untick) a manual item of the discharge checklist."""
    # The ward's checklist: only the ward ticks it (the table, brygga.cases.actions).
    participant = actions.check(actor, case, "checklist", state=False)
    case = lock_case(case)
    actions.check_state(case, "checklist")
    if key not in rules.MANUAL_CHECKLIST_KEYS:
        raise DomainError.single("checklist", "CHECKLISTA", _("Okänd punkt i checklistan."))
    checklist = dict(case.checklist)
    if done:
        checklist[key] = {"at": _iso(_now()), "by": _user_label(actor), "unit": participant.unit.name}
    else:
        checklist.pop(key, None)
    case.checklist = checklist
    case.save(update_fields=["checklist"])
    return record_event(case, actor, Kind.CHECKLIST_UPDATED, data={"item": key, "done": done}, notify=False)


def checklist_status(
    case: Case,
    participants: list[Participant] | None = None,
    planning: PlanningBasis | None | bool = False,
) -> list[dict[str, Any]]:
    """Every checklist item with whether it is done, applicable and blocking, for the discharge step. A page
    that has already read the case's ``participants`` and its ``planning`` basis (None: it has none) passes
    them, so they are not read again."""
    if participants is None:
        has_primary_care = case.participants.filter(
            role=Participant.Role.PRIMARY_CARE, status=Participant.Status.ACTIVE
        ).exists()
    else:
        has_primary_care = any(
            p.role == Participant.Role.PRIMARY_CARE and p.status == Participant.Status.ACTIVE
            for p in participants
        )
    has_planning = (
        PlanningBasis.objects.filter(case=case).exists() if planning is False else planning is not None
    )
    derived = {
        "discharge_info": (case.discharge_info_sent_at is not None, True),
        "patient_summary": (case.patient_summary_given_at is not None, True),
        "planning_basis": (has_planning, True),
        "coordinator": (bool(case.coordinator_name), has_primary_care),
        "sip_summons": (case.sip_summons_sent_at is not None, case.sip_needed),
    }
    items = []
    for item in rules.CHECKLIST:
        if item.manual:
            done, applies = item.key in case.checklist, True
        else:
            done, applies = derived[item.key]
        items.append(
            {
                "key": item.key,
                "label": item.label,
                "rule": item.rule,
                "blocking": item.blocking,
                "manual": item.manual,
                "done": done,
                "applies": applies,
                "done_info": case.checklist.get(item.key),
            }
        )
    return items


@transaction.atomic
def send_sip_summons(actor: Actor, case: Case, at: dt.datetime | None = None) -> CaseEvent:
    """R-FVK-2, R-SIP-K-1: the fast vårdkontakt (vårdcentral) sends the summons to SIP; recorded whether it
    was within 3 days of the discharge-ready notice."""
    actions.check(actor, case, "sip-summons", state=False)
    case = lock_case(case)
    actions.check_state(case, "sip-summons")
    if case.sip_summons_sent_at is not None:
        raise DomainError.single("sip", "FEL-STATUS", _("Kallelsen är redan skickad."), status=409)
    at = at or _now()
    _not_future(at, "at")
    due = case.sip_summons_due_at or _sip_due(case)
    case.sip_summons_sent_at = at
    case.sip_summons_due_at = due
    case.save(update_fields=["sip_summons_sent_at", "sip_summons_due_at"])
    return record_event(
        case,
        actor,
        Kind.SIP_SUMMONS_SENT,
        occurred_at=at,
        data={"due_at": _iso(due), "on_time": due is None or at <= due, "sip_needed": case.sip_needed},
    )


@transaction.atomic
def book_meeting(
    actor: Actor,
    case: Case,
    *,
    form: str,
    starts_at: dt.datetime | None,
    participants: Iterable[Unit | int] = (),
    location: str = "",
    note: str = "",
) -> Meeting:
    """A planning meeting on site, by phone or by video (R-VG-PROC-2); a video link comes from the configured
    provider."""
    participant = actions.check(actor, case, "meeting", state=False)
    case = lock_case(case)
    actions.check_state(case, "meeting")
    problems = []
    if form not in Meeting.Form.values:
        problems.append(
            Problem("form", "R-VG-PROC-2", _("Välj mötesform: fysiskt möte, telefon eller video."))
        )
    if starts_at is None:
        problems.append(Problem("starts_at", "MOTE-TID", _("Ange tid för mötet.")))
    elif starts_at < case.admitted_at:
        problems.append(Problem("starts_at", "DATUM-ORDNING", _("Mötet kan inte vara före inskrivningen.")))
    if form == Meeting.Form.ON_SITE and not location.strip():
        problems.append(Problem("location", "MOTE-PLATS", _("Ange plats för ett fysiskt möte.")))
    case_units = set(
        case.participants.filter(status=Participant.Status.ACTIVE).values_list("unit_id", flat=True)
    )
    unit_ids = {u.pk if isinstance(u, Unit) else int(u) for u in participants} | {participant.unit_id}
    if not unit_ids <= case_units:
        problems.append(Problem("participants", "OKAND-ENHET", _("Deltagarna måste vara enheter i ärendet.")))
    if problems:
        raise DomainError(problems)
    assert starts_at is not None
    meeting = Meeting.objects.create(
        case=case,
        form=form,
        starts_at=starts_at,
        location=limited("location", location, 200),
        note=limited("note", note, 500),
        booked_by=actor.user,
        booked_at=_now(),
    )
    meeting.participants.set(unit_ids)
    if form == Meeting.Form.VIDEO:
        meeting.video_link = video_provider().create_meeting(meeting)
        meeting.save(update_fields=["video_link"])
    record_event(
        case,
        actor,
        Kind.MEETING_BOOKED,
        data={"meeting": meeting.pk, "form": form, "starts_at": _iso(starts_at), "units": sorted(unit_ids)},
    )
    return meeting


# --- discharge ----------------------------------------------------------------------------------------------


@transaction.atomic
def send_discharge_info(
    actor: Actor, case: Case, *, summary_given: bool = False, at: dt.datetime | None = None
) -> CaseEvent:
    """R-UTS-1: the information needed for care after discharge, to every receiver, before or on the
    discharge day; R-UTS-2: whether the patient was given the written summary."""
    actions.check(actor, case, "discharge-info", state=False)
    case = lock_case(case)
    actions.check_state(case, "discharge-info")
    at = at or _now()
    _not_before(at, case.admitted_at, "at", _("Informationen kan inte skickas före inskrivningen."))
    _not_future(at, "at")
    case.discharge_info_sent_at = at
    fields = ["discharge_info_sent_at"]
    if summary_given:
        case.patient_summary_given_at = at
        fields.append("patient_summary_given_at")
    case.save(update_fields=fields)
    return record_event(
        case, actor, Kind.DISCHARGE_INFO_SENT, occurred_at=at, data={"patient_summary_given": summary_given}
    )


@transaction.atomic
def discharge(
    actor: Actor, case: Case, discharged_at: dt.datetime | None = None, destination: str = ""
) -> CaseEvent:
    """The patient leaves: checks the dates and the blocking checklist items (R-UTS-1, R-UTS-2), records the
    discharge and sends the discharge notice to every receiver, in one transaction."""
    actions.check(actor, case, "discharge", state=False)
    case = lock_case(case)
    actions.check_state(case, "discharge")
    at = discharged_at or _now()
    problems = []
    if at < case.admitted_at:
        problems.append(
            Problem("discharged_at", "DATUM-ORDNING", _("Utskrivningen kan inte vara före inskrivningen."))
        )
    if case.discharge_ready_at and at < case.discharge_ready_at:
        problems.append(
            Problem("discharged_at", "DATUM-ORDNING", _("Utskrivningen kan inte vara före utskrivningsklar."))
        )
    if at > _now() + FUTURE_TOLERANCE:
        problems.append(
            Problem("discharged_at", "DATUM-FRAMTID", _("Utskrivningen får inte ligga i framtiden."))
        )
    info = case.discharge_info_sent_at
    if info is None or timezone.localdate(info) > timezone.localdate(at):
        problems.append(
            Problem(
                "discharge_info",
                "R-UTS-1",
                _("Information vid utskrivning måste skickas senast samma dag som patienten skrivs ut."),
            )
        )
    if case.patient_summary_given_at is None:
        problems.append(
            Problem(
                "patient_summary",
                "R-UTS-2",
                _("Patienten ska få en skriftlig sammanfattning vid utskrivningen."),
            )
        )
    if problems:
        raise DomainError(problems)
    case.status = Status.DISCHARGED
    case.discharged_at = at
    now = _now()
    case.discharge_notice_sent_at = now
    case.save(update_fields=["status", "discharged_at", "discharge_notice_sent_at"])
    discharged = record_event(
        case,
        actor,
        Kind.DISCHARGED,
        occurred_at=at,
        data={
            "destination": limited("destination", destination, 200),
            "discharge_ready_at": _iso(case.discharge_ready_at),
        },
    )
    record_event(
        case, actor, Kind.DISCHARGE_NOTICE_SENT, occurred_at=now, data={"discharged_event": discharged.pk}
    )
    return discharged


@transaction.atomic
def close_case(actor: Actor, case: Case) -> CaseEvent:
    """Close a discharged, deceased or cancelled case. Records whether it closed without a discharge-ready or
    discharge notice (a statistic the users ask for) and ends the units' involvements."""
    actions.check(actor, case, "close", state=False)
    case = lock_case(case)
    actions.check_state(case, "close")
    previous = case.status
    now = _now()
    case.status = Status.CLOSED
    case.closed_at = now
    case.save(update_fields=["status", "closed_at"])
    event = record_event(
        case,
        actor,
        Kind.CLOSED,
        data={
            "from_status": previous,
            "without_discharge_ready": case.discharge_ready_at is None,
            "without_discharge_notice": case.discharge_notice_sent_at is None,
        },
    )
    end_involvement(case.person, None, case.source, at=now)
    return event


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
        target = Unit.objects.filter(pk=int(text)).first() if text.isdigit() else None
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
                added = _add_recipients(case, [contact], Participant.Addressing.AUTOMATIC, now)
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


# --- inbox and messages -------------------------------------------------------------------------------------


@transaction.atomic
def acknowledge(actor: Actor, case: Case) -> CaseEvent:
    """Human acknowledgement (kvittera) of everything new in the case, for the actor's unit."""
    participant = participant_for(actor, case)
    if participant is None:
        raise NotFound
    _require(actor, Perm.CASE_READ)
    now = _now()
    Participant.objects.filter(pk=participant.pk).update(
        needs_ack=False, unacked_since=None, acknowledged_at=now, acknowledged_by=actor.user
    )
    return record_event(
        case, actor, Kind.ACKNOWLEDGED, data={"unit": _unit_ref(participant.unit)}, notify=False
    )


class CaseSubject:
    """The case as the subject of message threads (the protocol in ``brygga.messaging.services``),
    registered in ``CasesConfig.ready``."""

    kind = "case"

    def __init__(self, case: Case) -> None:
        self.obj = case
        self.person = case.person
        self.source = case.source

    def sender_unit(self, actor: Actor) -> Unit | None:
        participant = participant_for(actor, self.obj)
        return participant.unit if participant else None

    def recipient_units(self, sender: Unit) -> list[Unit]:
        return [
            p.unit
            for p in Participant.objects.filter(case=self.obj, status=Participant.Status.ACTIVE)
            .exclude(unit=sender)
            .select_related("unit__organisation__principal")
            .order_by("pk")  # the order the units joined, on every database (shown, and stored)
        ]

    def record_event(self, actor: Actor, data: dict[str, Any]) -> None:
        record_event(self.obj, actor, CaseEvent.Kind.MESSAGE_SENT, data=data)

    def add_unit(self, actor: Actor, unit: Unit) -> list[dict[str, Any]]:
        sender = self.sender_unit(actor)
        if sender is None or unit.organisation_id != sender.organisation_id:
            raise DomainError.single(
                "to_unit", "VIDARESAND", _("Vidaresändning går bara till enheter i den egna organisationen.")
            )
        self.obj = lock_case(self.obj)
        if Participant.objects.filter(case=self.obj, unit=unit, status=Participant.Status.ACTIVE).exists():
            return []
        return _add_recipients(self.obj, [unit], Participant.Addressing.MANUAL, _now())

    def resolve_unit(self, ref: Unit | int | str) -> Unit:
        return resolve_recipients([ref])[0]


def send_message(
    actor: Actor,
    case: Case,
    *,
    body: str,
    category: str = "",
    subject: str = "",
    reply_to: Message | None = None,
    quote: str = "",
    files: Sequence[File] = (),
) -> Message:
    """A message in a thread of the case (the generic service in ``brygga.messaging.services``: legal basis
    per receiving unit, R-SEK-2, and attachments in the same transaction)."""
    return messaging.send_message(
        actor,
        CaseSubject(case),
        body=body,
        category=category,
        title=subject,
        reply_to=reply_to,
        quote=quote,
        files=files,
    )


def pin_message(actor: Actor, case: Case, message: Message, pinned: bool = True) -> Message:
    """Pin an important message to the top of the case for every unit."""
    return messaging.pin_message(actor, CaseSubject(case), message, pinned)


def forward_message(
    actor: Actor,
    case: Case,
    message: Message,
    *,
    include_text: bool,
    subject: str = "",
    category: str = "",
    reason: str = "",
    to_unit: Unit | int | str | None = None,
    files: Sequence[File] = (),
) -> Message:
    """Forward a message as a new thread (MedCom: the user chooses what to include; category and subject are
    copied and may be edited; a reason may be given). ``to_unit`` forwards within the actor's own organisation
    (SAMSA's "vidaresänd inom egen organisation"): that unit joins the case and gets access."""
    unit = resolve_recipients([to_unit])[0] if to_unit is not None and str(to_unit).strip() else None
    return messaging.forward_message(
        actor,
        CaseSubject(case),
        message,
        include_text=include_text,
        title=subject,
        category=category,
        reason=reason,
        to_unit=unit,
        files=files,
    )
