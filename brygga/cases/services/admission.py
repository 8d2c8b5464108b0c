"""Admission (inskrivning): the case, the admission notice and its recipients (R-INS-*)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.access.models import Involvement
from brygga.access.services import (
    end_involvement,
    involve_many,
)
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.cases import actions, rules
from brygga.cases.models import Case, CaseEvent, Participant
from brygga.cases.services.common import (
    ADMISSION_MAX_AGE,
    EXPECTED_STAY_MAX_DAYS,
    FUTURE_TOLERANCE,
    OPEN,
    RECEIVING_KINDS,
    Kind,
    _iso,
    _not_before,
    _not_future,
    _now,
    _require,
    _unit_ref,
    lock_case,
    record_event,
    unit_cases,
)
from brygga.core.errors import DomainError, Problem
from brygga.core.limits import limited
from brygga.organisations.models import Site, Unit
from brygga.people.models import Person

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
            unit = Unit.objects.filter(pk=int(text)).first() if text.isdecimal() else None
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


def add_recipients(case: Case, units: list[Unit], addressing: str, at: dt.datetime) -> list[dict[str, Any]]:
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
    units, addressing = decide_admission_notice(case, case.person, recipients, default_recipients, now)
    case.save(update_fields=["need_assessed_at", "notice_sent_at", "notice_late"])
    due = case.notice_due_at
    added = add_recipients(case, units, addressing, now)
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


def decide_admission_notice(
    case: Case,
    person: Person,
    recipients: Iterable[Unit | int | str] | None,
    defaults: Callable[[Person], list[Unit]],
    now: dt.datetime,
) -> tuple[list[Unit], str]:
    """The admission notice's decision, for one case here and for the batch ingest (``cases.ingest``): the
    notice's fields (R-INS-1..4), its receiving units — ``recipients`` when given (manual addressing), else
    ``defaults(person)`` from folkbokföring and listing (R-INS-7) — and whether it is late against the
    deadline from the assessment (R-INS-2/3). Sets ``notice_sent_at`` and ``notice_late`` on the case (not
    saved) and answers the units and their addressing; refuses with every problem at once."""
    problems = _notice_field_problems(person, case)
    manual = recipients is not None
    units = resolve_recipients(recipients) if recipients is not None else defaults(person)
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
    assert due is not None  # set from admitted_at and the assessment by the model
    case.notice_sent_at = now
    case.notice_late = now > due
    return units, Participant.Addressing.MANUAL if manual else Participant.Addressing.AUTOMATIC


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
    added = add_recipients(case, units, Participant.Addressing.MANUAL, now)
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
