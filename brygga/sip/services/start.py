"""The SIP's start: the offer and the person's answer (R-SIP-K-2), starting a SIP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.access.models import AccessLogEntry, Involvement
from brygga.access.services import (
    involve,
    record_change,
)
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.cases.models import Case, Participant
from brygga.consent.services import decide_disclosure
from brygga.core.errors import DomainError, NotFound, Problem
from brygga.organisations.models import Unit
from brygga.people.models import Person
from brygga.sip import rules
from brygga.sip.models import (
    Sip,
    SipOffer,
    SipParticipant,
)
from brygga.sip.services.common import (
    FUTURE_TOLERANCE,
    OPEN_STATES,
    Status,
    _now,
    _open_person_for_change,
    _person_for_start,
    _require,
    _resolve_unit,
    _unit_ref,
    participation,
    record_event,
)

# --- SIP: offer and start -----------------------------------------------------------------------------------


@transaction.atomic
def record_sip_offer(
    actor: Actor,
    person: Person,
    *,
    answer: str,
    answered_by: str = "person",
    case: Case | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> SipOffer:
    """R-SIP-K-2: a SIP is always offered for a safe discharge; the person (or the representative) says yes
    or no, and both the offer and the answer are recorded."""
    unit = _require(actor, Perm.SIP_MANAGE, "answer")
    _open_person_for_change(actor, person, "sip-erbjudande")
    problems = []
    if answer not in SipOffer.Answer.values:
        problems.append(Problem("answer", "R-SIP-K-2", _("Ange personens svar på erbjudandet om SIP.")))
    if answered_by not in ("person", "representative"):
        problems.append(Problem("answered_by", "R-SIP-K-2", _("Ange vem som svarade.")))
    if case is not None and (case.person_id != person.pk or not _takes_part_in_case(unit, case)):
        problems.append(Problem("case", "OKANT-ARENDE", _("Ärendet gäller inte personen eller din enhet.")))
    at = at or _now()
    if at > _now() + FUTURE_TOLERANCE:
        problems.append(Problem("at", "DATUM-FRAMTID", _("Erbjudandet kan inte ligga i framtiden.")))
    if problems:
        raise DomainError(problems)
    offer = SipOffer.objects.create(
        person=person,
        case=case,
        offered_at=at,
        offered_by=actor.user,
        unit=unit,
        answer=answer,
        answered_by=answered_by,
        note=note.strip()[:500],
    )
    record_change(actor, person, f"sip-erbjudande:{offer.pk}/{answer}", AccessLogEntry.Action.CREATE)
    return offer


def _takes_part_in_case(unit: Unit, case: Case) -> bool:
    return Participant.objects.filter(case=case, unit=unit, status=Participant.Status.ACTIVE).exists()


def _is_child(person: Person, today: dt.date) -> bool:
    if person.birth_date is None:
        return False
    years = today.year - person.birth_date.year
    if (today.month, today.day) < (person.birth_date.month, person.birth_date.day):
        years -= 1
    return years < rules.CHILD_AGE


@transaction.atomic
def start_sip(
    actor: Actor,
    person: Person,
    *,
    need_description: str,
    case: Case | None = None,
    at: dt.datetime | None = None,
) -> Sip:
    """Step 1, discover the need (R-VG-SIP-1/2): any unit of health care, social services or school that is
    involved with the person starts a SIP, inside a discharge case or outside one. In a discharge case the
    person's latest answer to the SIP offer must not be no (R-SIP-K-2)."""
    unit = _require(actor, Perm.SIP_MANAGE, "need_description")
    _person_for_start(actor, person, "sip")
    problems = []
    if not need_description.strip():
        problems.append(
            Problem("need_description", "R-VG-SIP-2", _("Beskriv behovet av insatser från båda huvudmännen."))
        )
    offer = None
    if case is not None:
        if case.person_id != person.pk or not _takes_part_in_case(unit, case):
            problems.append(
                Problem("case", "OKANT-ARENDE", _("Ärendet gäller inte personen eller din enhet."))
            )
        offer = SipOffer.objects.filter(case=case).order_by("-offered_at", "-id").first()
        if offer is not None and offer.answer == SipOffer.Answer.DECLINED:
            problems.append(
                Problem(
                    "case",
                    "R-SIP-K-2",
                    _("Personen har tackat nej till SIP. Registrera ett nytt erbjudande om hen ändrar sig."),
                )
            )
    if problems:
        raise DomainError(problems)
    at = at or _now()
    sip = Sip.objects.create(
        person=person,
        case=case,
        offer=offer,
        need_description=need_description.strip(),
        initiated_by_unit=unit,
        created_by=actor.user,
        created_at=at,
        concerns_child=_is_child(person, timezone.localdate(at)),
    )
    SipParticipant.objects.create(
        sip=sip, kind=SipParticipant.Kind.UNIT, unit=unit, added_at=at, acknowledged_at=at
    )
    SipParticipant.objects.create(
        sip=sip, kind=SipParticipant.Kind.PERSON, name=_("Personen själv"), added_at=at
    )
    involve(person, unit, Involvement.Kind.SIP, sip.source, at=at)
    record_event(
        actor,
        "sip_started",
        sip=sip,
        occurred_at=at,
        data={
            "case": case.pk if case else None,
            "concerns_child": sip.concerns_child,
            "unit": _unit_ref(unit),
        },
    )
    return sip


def _lock(sip: Sip) -> Sip:
    return Sip.objects.select_for_update(of=("self",)).select_related("person", "case").get(pk=sip.pk)


def _participant_unit(actor: Actor, sip: Sip, perm: Perm = Perm.SIP_MANAGE) -> Unit:
    unit = _require(actor, perm)
    if participation(actor, sip) is None:
        raise NotFound
    return unit


def _require_state(sip: Sip, allowed: Iterable[str], field: str = "status") -> None:
    if sip.status not in allowed:
        raise DomainError.single(
            field,
            "FEL-STATUS",
            _("Det går inte i steget ”%(status)s”.") % {"status": sip.get_status_display()},
            status=409,
        )


def _basis_for_sip(actor: Actor, sip: Sip, unit: Unit) -> dict[str, object] | Problem:
    """R-SIP-1: the plan is drawn up only if the person consents; sharing the SIP with a unit of another
    principal therefore needs a consent, not only a physician's assessment."""
    assert actor.unit is not None
    try:
        basis = decide_disclosure(sip.person, "sip", unit, actor.unit)
    except DomainError as exc:
        return exc.problems[0]
    if basis.kind == "assessment":
        return Problem(
            "consent",
            "R-SIP-1",
            _("SIP kräver personens samtycke; en menprövning räcker inte (%(unit)s).") % {"unit": unit.name},
        )
    return basis.as_dict()


@transaction.atomic
def add_participant(
    actor: Actor,
    sip: Sip,
    *,
    kind: str,
    unit: Unit | int | str | None = None,
    name: str = "",
    role_text: str = "",
) -> SipParticipant:
    """Step 2, prepare: units of both principals, the person, närstående (R-SIP-3), a legal representative
    or another actor. A unit added after the summons gets the SIP at once, with the legal basis checked."""
    _participant_unit(actor, sip)
    sip = _lock(sip)
    _require_state(sip, OPEN_STATES)
    if kind not in SipParticipant.Kind.values:
        raise DomainError.single("kind", "DELTAGARE", _("Välj typ av deltagare."))
    at = _now()
    target = None
    if kind == SipParticipant.Kind.UNIT:
        target = _resolve_unit(unit, "unit")
        if target is None:
            raise DomainError.single("unit", "DELTAGARE", _("Välj en enhet."))
        if SipParticipant.objects.filter(sip=sip, unit=target).exists():
            raise DomainError.single("unit", "DELTAGARE", _("Enheten deltar redan."), status=409)
    elif not name.strip():
        raise DomainError.single("name", "DELTAGARE", _("Ange deltagarens namn."))
    elif kind == SipParticipant.Kind.PERSON and sip.participants.filter(kind=kind).exists():
        raise DomainError.single("kind", "DELTAGARE", _("Personen deltar redan."), status=409)
    basis = None
    if target is not None and sip.summoned_at is not None:
        result = _basis_for_sip(actor, sip, target)
        if isinstance(result, Problem):
            raise DomainError([result], status=403)
        basis = result
    participant = SipParticipant.objects.create(
        sip=sip,
        kind=kind,
        unit=target,
        name=name.strip()[:200],
        role_text=role_text.strip()[:100],
        added_at=at,
    )
    if target is not None and sip.summoned_at is not None:
        involve(sip.person, target, Involvement.Kind.SIP, sip.source, at=at)
    if sip.status == Status.NEED:
        sip.status = Status.PREPARE
        sip.save(update_fields=["status"])
    record_event(
        actor,
        "participant_added",
        sip=sip,
        data={
            "kind": kind,
            "unit": _unit_ref(target) if target else None,
            "name": participant.name,
            "basis": basis,
        },
    )
    return participant


@transaction.atomic
def remove_participant(actor: Actor, sip: Sip, participant: SipParticipant) -> None:
    """Before the summons only; the initiating unit stays."""
    _participant_unit(actor, sip)
    sip = _lock(sip)
    _require_state(sip, (Status.NEED, Status.PREPARE))
    if participant.sip_id != sip.pk or participant.unit_id == sip.initiated_by_unit_id:
        raise DomainError.single("participant", "DELTAGARE", _("Deltagaren kan inte tas bort."))
    label = str(participant)
    participant.delete()
    record_event(actor, "participant_removed", sip=sip, data={"name": label})
