"""Every state change of a SIP and of a care request, one named function each.

Each function checks the actor's permission and unit, validates the input (a DomainError names the field and
the rule and, raised inside ``transaction.atomic``, leaves nothing half-written), changes the object, writes
its immutable Event, opens the person to the participating units (``involve``, kind SIP or OUTPATIENT) and
writes the access log, in one transaction. Sharing across units asks ``consent.decide_disclosure`` and stores
the legal basis it returned."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.access.models import AccessLogEntry, DenialReason, Involvement
from brygga.access.services import (
    end_involvement,
    involve,
    is_involved,
    open_person,
    record_change,
    refused_person,
)
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.cases import services as case_services
from brygga.cases.models import Case, Participant
from brygga.consent.services import decide_disclosure
from brygga.core.errors import DomainError, NotFound, Problem
from brygga.organisations.models import Unit
from brygga.people.models import Person
from brygga.sip import rules
from brygga.sip.models import (
    CareRequest,
    Event,
    FollowUp,
    Sip,
    SipEffort,
    SipOffer,
    SipParticipant,
    SipVersion,
)

Status = Sip.Status
OPEN_STATES = (Status.NEED, Status.PREPARE, Status.SUMMONED, Status.MEETING, Status.FOLLOW_UP)
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
MUNICIPAL_HEALTH_KINDS = (Unit.Kind.HOME_HEALTH, Unit.Kind.MUNICIPAL_CONTACT)


# --- helpers ------------------------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return timezone.now()


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _require(actor: Actor, perm: Perm, field: str = "") -> Unit:
    if not actor.can(perm) or actor.unit is None:
        raise DomainError.single(
            field, "BEHORIGHET", _("Din roll i den aktiva enheten får inte göra detta."), status=403
        )
    return actor.unit


def _unit_ref(unit: Unit) -> dict[str, Any]:
    return {"id": unit.pk, "hsa_id": unit.hsa_id, "name": unit.name}


def _side(unit: Unit) -> str:
    return "region" if unit.is_region_side else "municipality"


def _event(
    actor: Actor,
    kind: str,
    *,
    sip: Sip | None = None,
    care_request: CareRequest | None = None,
    occurred_at: dt.datetime | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    now = _now()
    assert actor.unit is not None
    event = Event.objects.create(
        sip=sip,
        care_request=care_request,
        kind=kind,
        occurred_at=occurred_at or now,
        recorded_at=now,
        user=actor.user,
        unit=actor.unit,
        data=data or {},
    )
    subject: Sip | CareRequest = sip if sip is not None else care_request  # type: ignore[assignment]
    type(subject).objects.filter(pk=subject.pk).update(last_event_at=now)
    subject.last_event_at = now
    action = AccessLogEntry.Action.CREATE if kind in ("sip_started", "care_request_sent") else None
    record_change(actor, subject.person, f"{subject.source}/{kind}", action or AccessLogEntry.Action.UPDATE)
    return event


def _resolve_unit(value: Unit | int | str | None, field: str) -> Unit | None:
    if value in (None, ""):
        return None
    if isinstance(value, Unit):
        return value
    text = str(value).strip()
    found = Unit.objects.filter(pk=int(text)).first() if text.isdigit() else None
    found = found or Unit.objects.filter(hsa_id=text).first()
    if found is None or not found.is_active:
        raise DomainError.single(field, "OKAND-ENHET", _("Välj en aktiv enhet."))
    return found


# --- reading ------------------------------------------------------------------------------------------------


def participation(actor: Actor, sip: Sip) -> SipParticipant | None:
    if actor.unit is None:
        return None
    return SipParticipant.objects.filter(sip=sip, unit=actor.unit).first()


def open_sip(actor: Actor, sip_id: int | str, what: str = "") -> Sip:
    """The SIP if the actor's role may read personal data and the active unit takes part in it (a planned
    participant from the summons on); the read is logged. Another unit's SIP and a SIP that does not exist
    both raise NotFound."""
    try:
        pk = int(sip_id)
    except (TypeError, ValueError) as exc:
        raise NotFound(DenialReason.NOT_FOUND) from exc
    if not actor.can(Perm.PERSON_READ) or actor.unit is None:
        raise NotFound(DenialReason.ROLE, refused_person(Sip, pk))
    sip = (
        Sip.objects.select_related("person", "case", "initiated_by_unit")
        .filter(pk=pk, participants__unit=actor.unit)
        .filter(Q(summoned_at__isnull=False) | Q(initiated_by_unit=actor.unit))
        .first()
    )
    if sip is None:
        refused_for = refused_person(Sip, pk)
        raise NotFound(DenialReason.NO_INVOLVEMENT if refused_for else DenialReason.NOT_FOUND, refused_for)
    open_person(actor, sip.person_id, what=f"{sip.source}{'/' + what if what else ''}")
    return sip


def open_care_request(actor: Actor, request_id: int | str, what: str = "") -> CareRequest:
    """The care request if the active unit sent or received it; the read is logged, and the receiver's
    first read is recorded (the request is then no longer new in its inbox)."""
    try:
        pk = int(request_id)
    except (TypeError, ValueError) as exc:
        raise NotFound(DenialReason.NOT_FOUND) from exc
    if not actor.can(Perm.PERSON_READ) or actor.unit is None:
        raise NotFound(DenialReason.ROLE, refused_person(CareRequest, pk))
    found = (
        CareRequest.objects.select_related("person", "from_unit", "to_unit", "sip")
        .filter(pk=pk)
        .filter(Q(from_unit=actor.unit) | Q(to_unit=actor.unit))
        .first()
    )
    if found is None:
        refused_for = refused_person(CareRequest, pk)
        raise NotFound(DenialReason.NO_INVOLVEMENT if refused_for else DenialReason.NOT_FOUND, refused_for)
    open_person(actor, found.person_id, what=f"{found.source}{'/' + what if what else ''}")
    if found.to_unit_id == actor.unit.pk and found.opened_at is None:
        found.opened_at = _now()
        CareRequest.objects.filter(pk=found.pk).update(opened_at=found.opened_at)
    return found


def _open_person_for_change(actor: Actor, person: Person, what: str) -> Person:
    return open_person(actor, person.pk, what=what, action=AccessLogEntry.Action.UPDATE)


def _person_for_start(actor: Actor, person: Person, what: str) -> Person:
    """Starting a SIP or a care request opens the person to the unit, as admitting does: the unit is already
    involved, or it found the person by identity number (``lookup_person``, logged and flagged for review)
    with a role that may look people up. Otherwise NotFound."""
    if is_involved(actor.unit, person.pk):
        return _open_person_for_change(actor, person, what)
    if not actor.can(Perm.PERSON_LOOKUP):
        raise NotFound
    record_change(actor, person, what, AccessLogEntry.Action.CREATE)
    return person


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
    _event(
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
    _event(
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
    _event(actor, "participant_removed", sip=sip, data={"name": label})


# --- SIP: summons, meeting, plan ----------------------------------------------------------------------------


@transaction.atomic
def summon(
    actor: Actor,
    sip: Sip,
    *,
    meeting_at: dt.datetime | None,
    location: str = "",
    at: dt.datetime | None = None,
) -> Event:
    """Step 3, summon to the SIP meeting. Refused without participants from both principals (R-SIP-1), without
    the person or a representative (R-SIP-3), without a consent for every unit of another principal (R-SIP-1,
    R-SEK-2..4) or with a meeting in the past. In a discharge case the case's summons is recorded too, so the
    3-day deadline (R-SIP-K-1) shows as met on both."""
    unit = _participant_unit(actor, sip)
    sip = _lock(sip)
    _require_state(sip, (Status.NEED, Status.PREPARE))
    at = at or _now()
    problems: list[Problem] = []
    if at > _now() + FUTURE_TOLERANCE:
        problems.append(Problem("at", "DATUM-FRAMTID", _("Kallelsen kan inte skickas i framtiden.")))
    if meeting_at is None:
        problems.append(Problem("meeting_at", "DATUM-FORMAT", _("Ange tid för SIP-mötet.")))
    elif meeting_at <= at:
        problems.append(Problem("meeting_at", "DATUM-PASSERAT", _("SIP-mötet måste ligga efter kallelsen.")))
    participants = list(sip.participants.select_related("unit__organisation__principal"))
    units = [p.unit for p in participants if p.unit is not None]
    others = [u for u in units if u.pk != unit.pk]
    if not others:
        problems.append(
            Problem(
                "participants",
                "R-SIP-1",
                _("Kallelsen saknar deltagare. Lägg till enheter från båda huvudmännen."),
            )
        )
    elif {_side(u) for u in units} != {"region", "municipality"}:
        problems.append(
            Problem(
                "participants",
                "R-SIP-1",
                _("En SIP kräver deltagare från både regionen och kommunen."),
            )
        )
    if not any(
        p.kind in (SipParticipant.Kind.PERSON, SipParticipant.Kind.REPRESENTATIVE) for p in participants
    ):
        problems.append(
            Problem(
                "participants",
                "R-SIP-3",
                _("Personen själv eller en legal företrädare ska kallas."),
            )
        )
    bases: dict[str, object] = {}
    for other in others:
        result = _basis_for_sip(actor, sip, other)
        if isinstance(result, Problem):
            problems.append(result)
        else:
            bases[str(other.pk)] = result
    if problems:
        raise DomainError(problems)
    assert meeting_at is not None
    sip.status = Status.SUMMONED
    sip.summoned_at = at
    sip.meeting_at = meeting_at
    sip.meeting_location = location.strip()[:200]
    sip.save(update_fields=["status", "summoned_at", "meeting_at", "meeting_location"])
    for other in others:
        involve(sip.person, other, Involvement.Kind.SIP, sip.source, at=at)
    SipParticipant.objects.filter(sip=sip, unit__isnull=False).exclude(unit=unit).update(acknowledged_at=None)
    case_data: dict[str, Any] = {}
    if sip.case is not None and sip.case.sip_summons_sent_at is None and sip.case.is_open:
        case_event = case_services.send_sip_summons(actor, sip.case, at=at)
        case_data = {"case": sip.case.pk, "case_event": case_event.pk, **case_event.data}
    return _event(
        actor,
        "summons_sent",
        sip=sip,
        occurred_at=at,
        data={
            "meeting_at": _iso(meeting_at),
            "location": sip.meeting_location,
            "participants": [str(p) for p in participants],
            "bases": bases,
            **case_data,
        },
    )


@transaction.atomic
def record_meeting(actor: Actor, sip: Sip, *, held_at: dt.datetime | None = None, note: str = "") -> Event:
    """Step 4, the SIP meeting was held; the plan is drafted from here."""
    _participant_unit(actor, sip)
    sip = _lock(sip)
    _require_state(sip, (Status.SUMMONED,))
    held_at = held_at or _now()
    if held_at > _now() + FUTURE_TOLERANCE:
        raise DomainError.single("held_at", "DATUM-FRAMTID", _("Mötet kan inte ha hållits i framtiden."))
    if sip.summoned_at and held_at < sip.summoned_at:
        raise DomainError.single("held_at", "DATUM-ORDNING", _("Mötet kan inte vara före kallelsen."))
    sip.status = Status.MEETING
    sip.meeting_held_at = held_at
    sip.save(update_fields=["status", "meeting_held_at"])
    _ensure_draft(actor, sip)
    return _event(actor, "meeting_held", sip=sip, occurred_at=held_at, data={"note": note.strip()[:500]})


def _ensure_draft(actor: Actor, sip: Sip) -> SipVersion:
    draft = sip.draft()
    if draft is not None:
        return draft
    current = sip.current_version()
    number = (sip.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    draft = SipVersion.objects.create(
        sip=sip,
        number=number,
        what_matters=current.what_matters if current else "",
        needs=current.needs if current else "",
        other_efforts=current.other_efforts if current else "",
        overall_responsible_unit=current.overall_responsible_unit if current else None,
        based_on=current,
        created_by=actor.user,
        created_at=_now(),
    )
    if current is not None:
        SipEffort.objects.bulk_create(
            [
                SipEffort(
                    version=draft,
                    need=e.need,
                    effort=e.effort,
                    responsible_unit=e.responsible_unit,
                    performer_other=e.performer_other,
                    position=e.position,
                )
                for e in current.efforts.all()
            ]
        )
    return draft


def _participating_unit_ids(sip: Sip) -> set[int]:
    return set(sip.participants.filter(unit__isnull=False).values_list("unit_id", flat=True))


@transaction.atomic
def save_draft(
    actor: Actor,
    sip: Sip,
    *,
    what_matters: str,
    needs: str,
    other_efforts: str,
    overall_responsible_unit: Unit | int | str | None,
    efforts: Iterable[dict[str, Any]],
    change_reason: str = "",
) -> SipVersion:
    """Edit the plan's draft (a new version when the plan is already established). Incomplete content is
    allowed in a draft; establishing checks R-SIP-4. Responsible units must take part in the SIP."""
    _participant_unit(actor, sip)
    sip = _lock(sip)
    _require_state(sip, OPEN_STATES)
    draft = _ensure_draft(actor, sip)
    overall = _resolve_unit(overall_responsible_unit, "overall_responsible_unit")
    allowed = _participating_unit_ids(sip)
    problems: list[Problem] = []
    if overall is not None and overall.pk not in allowed:
        problems.append(
            Problem(
                "overall_responsible_unit",
                "R-SIP-4",
                _("Enheten med övergripande ansvar ska delta i SIP:en."),
            )
        )
    rows: list[SipEffort] = []
    for index, raw in enumerate(efforts):
        effort_text = str(raw.get("effort", "")).strip()
        need_text = str(raw.get("need", "")).strip()
        other = str(raw.get("performer_other", "")).strip()
        if not (effort_text or need_text or other or raw.get("responsible_unit")):
            continue  # an empty row of the form
        try:
            responsible = _resolve_unit(raw.get("responsible_unit"), f"efforts.{index}.responsible_unit")
        except DomainError as exc:
            problems += exc.problems
            continue
        if responsible is not None and responsible.pk not in allowed:
            problems.append(
                Problem(
                    f"efforts.{index}.responsible_unit",
                    "R-SIP-4",
                    _("Den ansvariga enheten ska delta i SIP:en."),
                )
            )
        rows.append(
            SipEffort(
                version=draft,
                need=need_text[:500],
                effort=effort_text[:500],
                responsible_unit=responsible,
                performer_other=other[:200],
                position=index,
            )
        )
    if problems:
        raise DomainError(problems)
    draft.what_matters = what_matters.strip()
    draft.needs = needs.strip()
    draft.other_efforts = other_efforts.strip()
    draft.overall_responsible_unit = overall
    draft.change_reason = change_reason.strip()[:500]
    draft.save(
        update_fields=["what_matters", "needs", "other_efforts", "overall_responsible_unit", "change_reason"]
    )
    draft.efforts.all().delete()
    SipEffort.objects.bulk_create(rows)
    if sip.status == Status.NEED:
        sip.status = Status.PREPARE
        sip.save(update_fields=["status"])
    _event(actor, "draft_saved", sip=sip, data={"version": draft.number, "efforts": len(rows)})
    return draft


def plan_problems(sip: Sip, version: SipVersion) -> list[Problem]:
    """R-SIP-4 (and R-VG-SIP-4 for "what matters to you"): what is missing before the plan can be set."""
    problems: list[Problem] = []
    efforts = list(version.efforts.select_related("responsible_unit__organisation__principal"))
    if not version.what_matters:
        problems.append(Problem("what_matters", "R-VG-SIP-4", _("Skriv vad som är viktigt för personen.")))
    if not version.needs:
        problems.append(Problem("needs", "R-SIP-4", _("Ange vilka behov personen har.")))
    if not efforts:
        problems.append(Problem("efforts", "R-SIP-4", _("Ange vilka insatser som behövs.")))
    for index, effort in enumerate(efforts):
        if not effort.effort:
            problems.append(Problem(f"efforts.{index}.effort", "R-SIP-4", _("Beskriv insatsen.")))
        if effort.responsible_unit is None and not effort.performer_other:
            problems.append(
                Problem(
                    f"efforts.{index}.responsible_unit",
                    "R-SIP-4",
                    _("Ange vilken huvudman som ansvarar för insatsen, eller vem annan som utför den."),
                )
            )
    sides = {_side(e.responsible_unit) for e in efforts if e.responsible_unit is not None}
    if efforts and sides != {"region", "municipality"}:
        problems.append(
            Problem(
                "efforts",
                "R-SIP-4",
                _("Planen ska ange vilka insatser regionen och kommunen var för sig ansvarar för."),
            )
        )
    if not version.other_efforts:
        problems.append(
            Problem(
                "other_efforts",
                "R-SIP-4",
                _(
                    "Ange vilka insatser andra än kommun och region gör "
                    "(skriv ”Inga” om det inte finns några)."
                ),
            )
        )
    if version.overall_responsible_unit is None:
        problems.append(
            Problem(
                "overall_responsible_unit",
                "R-SIP-4",
                _("Ange vilken huvudman som har det övergripande ansvaret."),
            )
        )
    if version.based_on_id is not None and not version.change_reason:
        problems.append(Problem("change_reason", "SIP-VERSION", _("Ange varför planen ändras.")))
    return problems


@transaction.atomic
def establish(
    actor: Actor,
    sip: Sip,
    *,
    follow_up_on: dt.date | None = None,
    follow_up_description: str = "",
    follow_up_unit: Unit | int | str | None = None,
) -> SipVersion:
    """The meeting's plan is established: R-SIP-4 is validated on the draft, which becomes the plan's current
    version; an earlier established version is superseded but stays readable. A children's SIP must say when
    it will be followed up (R-VG-SIP-3). Step 5, follow up, starts."""
    unit = _participant_unit(actor, sip)
    sip = _lock(sip)
    _require_state(sip, (Status.MEETING, Status.FOLLOW_UP))
    draft = sip.draft()
    if draft is None:
        raise DomainError.single("version", "R-SIP-4", _("Det finns inget utkast att fastställa."))
    problems = plan_problems(sip, draft)
    today = timezone.localdate()
    if (
        follow_up_on is None
        and sip.concerns_child
        and not sip.follow_ups.filter(done_at__isnull=True).exists()
    ):
        problems.append(
            Problem("follow_up_on", "R-VG-SIP-3", _("En SIP för barn och unga ska ange när den följs upp."))
        )
    if follow_up_on is not None and follow_up_on < today:
        problems.append(
            Problem("follow_up_on", "DATUM-PASSERAT", _("Uppföljningsdatumet har redan passerat."))
        )
    if problems:
        raise DomainError(problems)
    now = _now()
    previous = sip.current_version()
    if previous is not None:
        SipVersion.objects.filter(pk=previous.pk).update(status=SipVersion.Status.SUPERSEDED)
    draft.status = SipVersion.Status.ESTABLISHED
    draft.established_at = now
    draft.established_by = actor.user
    draft.save(update_fields=["status", "established_at", "established_by"])
    sip.status = Status.FOLLOW_UP
    sip.save(update_fields=["status"])
    SipParticipant.objects.filter(sip=sip, unit__isnull=False).exclude(unit=unit).update(acknowledged_at=None)
    _event(
        actor,
        "plan_established",
        sip=sip,
        data={"version": draft.number, "supersedes": previous.number if previous else None},
    )
    if follow_up_on is not None:
        _add_follow_up(
            actor,
            sip,
            due_on=follow_up_on,
            description=follow_up_description or _("Uppföljning av planen"),
            responsible_unit=follow_up_unit or draft.overall_responsible_unit,
        )
    return draft


def _add_follow_up(
    actor: Actor,
    sip: Sip,
    *,
    due_on: dt.date | None,
    description: str,
    responsible_unit: Unit | int | str | None,
) -> FollowUp:
    problems: list[Problem] = []
    if due_on is None:
        problems.append(Problem("due_on", "DATUM-FORMAT", _("Ange datum för uppföljningen.")))
    elif due_on < timezone.localdate():
        problems.append(Problem("due_on", "DATUM-PASSERAT", _("Uppföljningsdatumet har redan passerat.")))
    if not description.strip():
        problems.append(Problem("description", "UPPFOLJNING", _("Ange vad som ska följas upp.")))
    try:
        responsible = _resolve_unit(responsible_unit, "responsible_unit")
    except DomainError as exc:
        problems += exc.problems
        responsible = None
    not_participating = responsible is None or responsible.pk not in _participating_unit_ids(sip)
    if not_participating and not any(p.field == "responsible_unit" for p in problems):
        problems.append(
            Problem("responsible_unit", "UPPFOLJNING", _("Välj en deltagande enhet som ansvarar."))
        )
    if problems:
        raise DomainError(problems)
    assert due_on is not None and responsible is not None
    follow_up = FollowUp.objects.create(
        sip=sip,
        due_on=due_on,
        description=description.strip()[:500],
        responsible_unit=responsible,
        created_by=actor.user,
        created_at=_now(),
    )
    _event(
        actor,
        "follow_up_planned",
        sip=sip,
        data={"follow_up": follow_up.pk, "due_on": _iso(due_on), "responsible": _unit_ref(responsible)},
    )
    return follow_up


@transaction.atomic
def add_follow_up(
    actor: Actor,
    sip: Sip,
    *,
    due_on: dt.date | None,
    description: str,
    responsible_unit: Unit | int | str | None,
) -> FollowUp:
    """A follow-up date becomes a task with a deadline for the responsible unit; a date in the past is
    refused."""
    _participant_unit(actor, sip)
    sip = _lock(sip)
    _require_state(sip, OPEN_STATES)
    return _add_follow_up(
        actor, sip, due_on=due_on, description=description, responsible_unit=responsible_unit
    )


@transaction.atomic
def complete_follow_up(actor: Actor, follow_up: FollowUp, *, outcome: str) -> FollowUp:
    sip = follow_up.sip
    _participant_unit(actor, sip)
    sip = _lock(sip)
    _require_state(sip, OPEN_STATES)
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if follow_up.done_at is not None:
        raise DomainError.single("follow_up", "FEL-STATUS", _("Uppföljningen är redan gjord."), status=409)
    if not outcome.strip():
        raise DomainError.single("outcome", "UPPFOLJNING", _("Skriv resultatet av uppföljningen."))
    follow_up.done_at = _now()
    follow_up.done_by = actor.user
    follow_up.outcome = outcome.strip()
    follow_up.save(update_fields=["done_at", "done_by", "outcome"])
    _event(
        actor, "follow_up_done", sip=sip, data={"follow_up": follow_up.pk, "due_on": _iso(follow_up.due_on)}
    )
    return follow_up


@transaction.atomic
def start_revision(actor: Actor, sip: Sip) -> SipVersion:
    """Change an established plan: a new draft version based on the current one."""
    _participant_unit(actor, sip)
    sip = _lock(sip)
    _require_state(sip, (Status.FOLLOW_UP,))
    if sip.draft() is not None:
        raise DomainError.single("version", "FEL-STATUS", _("Det finns redan ett utkast."), status=409)
    draft = _ensure_draft(actor, sip)
    _event(actor, "revision_started", sip=sip, data={"version": draft.number})
    return draft


@transaction.atomic
def close_sip(actor: Actor, sip: Sip, *, reason: str, text: str = "") -> Event:
    """Step 6, close. The units' access ends after the usual grace period."""
    _participant_unit(actor, sip)
    sip = _lock(sip)
    _require_state(sip, OPEN_STATES)
    if reason not in rules.CLOSE_REASONS:
        raise DomainError.single("reason", "AVSLUT", _("Välj skäl till att SIP:en avslutas."))
    if reason == "other" and not text.strip():
        raise DomainError.single("text", "AVSLUT", _("Beskriv skälet."))
    now = _now()
    sip.status = Status.CLOSED
    sip.closed_at = now
    sip.close_reason = reason
    sip.save(update_fields=["status", "closed_at", "close_reason"])
    event = _event(actor, "sip_closed", sip=sip, data={"reason": reason, "text": text.strip()[:500]})
    end_involvement(sip.person, None, sip.source, at=now)
    return event


@transaction.atomic
def acknowledge_sip(actor: Actor, sip: Sip) -> None:
    _participant_unit(actor, sip, Perm.PERSON_READ)
    SipParticipant.objects.filter(sip=sip, unit=actor.unit).update(acknowledged_at=_now())
    record_change(actor, sip.person, f"{sip.source}/kvitterad")


# --- the outpatient process: care requests ------------------------------------------------------------------


def care_request_problems(
    *,
    to_unit: Unit | None,
    reason: str,
    health_summary: str,
    requested_efforts: list[str],
    medication_responsibility: str,
    start_on: dt.date | None,
    contact_name: str,
    contact_phone: str,
) -> list[Problem]:
    """The structured mandatory content of a care request. The VG guideline's field list was not retrieved
    (rules.md, open question 5); this set follows KLARA SVPL's vårdbegäran and is a local rule [U]."""
    problems = []
    rule = "OV-INNEHALL"
    if to_unit is None or to_unit.kind not in MUNICIPAL_HEALTH_KINDS:
        problems.append(
            Problem("to_unit", "OV-MOTTAGARE", _("Välj kommunens hälso- och sjukvård eller kontaktpunkt."))
        )
    if not reason.strip():
        problems.append(Problem("reason", rule, _("Ange anledningen till vårdbegäran.")))
    if not health_summary.strip():
        problems.append(Problem("health_summary", rule, _("Beskriv det aktuella hälsotillståndet.")))
    if not requested_efforts:
        problems.append(Problem("requested_efforts", rule, _("Välj minst en insats.")))
    elif any(e not in rules.CARE_REQUEST_EFFORTS for e in requested_efforts):
        problems.append(Problem("requested_efforts", rule, _("Okänd insats.")))
    if medication_responsibility not in rules.MEDICATION_RESPONSIBILITY:
        problems.append(
            Problem("medication_responsibility", rule, _("Ange vem som ansvarar för läkemedlen."))
        )
    if start_on is None:
        problems.append(Problem("start_on", rule, _("Ange från vilket datum insatserna behövs.")))
    elif start_on < timezone.localdate():
        problems.append(Problem("start_on", "DATUM-PASSERAT", _("Datumet har redan passerat.")))
    if not contact_name.strip():
        problems.append(Problem("contact_name", rule, _("Ange kontaktperson.")))
    if not contact_phone.strip():
        problems.append(Problem("contact_phone", rule, _("Ange telefonnummer till kontaktpersonen.")))
    return problems


CARE_REQUEST_CATEGORIES = ("health", "medications", "efforts")


@transaction.atomic
def send_care_request(
    actor: Actor,
    person: Person,
    *,
    to_unit: Unit | int | str | None,
    reason: str,
    health_summary: str,
    requested_efforts: Iterable[str],
    medication_responsibility: str,
    start_on: dt.date | None,
    contact_name: str,
    contact_phone: str,
    efforts_detail: str = "",
    sip: Sip | None = None,
) -> CareRequest:
    """A care request (vårdbegäran) from the region's outpatient care or the fast vårdkontakt to municipal
    health care. Everything beyond the admission-notice fields needs a legal basis towards the receiver
    (R-SEK-2); the basis of each category is stored with the request. Several may be open per person."""
    unit = _require(actor, Perm.OUTPATIENT_MANAGE, "to_unit")
    _person_for_start(actor, person, "vårdbegäran")
    problems: list[Problem] = []
    if not unit.is_region_side:
        problems.append(
            Problem(
                "from_unit",
                "OV-AVSANDARE",
                _("Vårdbegäran skickas från regionens öppenvård eller vårdcentral."),
            )
        )
    try:
        target = _resolve_unit(to_unit, "to_unit")
    except DomainError as exc:
        problems += exc.problems
        target = None
    efforts = [e for e in dict.fromkeys(requested_efforts) if e]
    problems += [
        p
        for p in care_request_problems(
            to_unit=target,
            reason=reason,
            health_summary=health_summary,
            requested_efforts=efforts,
            medication_responsibility=medication_responsibility,
            start_on=start_on,
            contact_name=contact_name,
            contact_phone=contact_phone,
        )
        if not (p.field == "to_unit" and any(q.field == "to_unit" for q in problems))
    ]
    if sip is not None and (sip.person_id != person.pk or participation(actor, sip) is None):
        problems.append(Problem("sip", "OKAND-SIP", _("SIP:en gäller inte personen eller din enhet.")))
    bases: dict[str, object] = {}
    if target is not None and not problems:
        for category in ("identity", *CARE_REQUEST_CATEGORIES):
            try:
                bases[category] = decide_disclosure(person, category, target, unit).as_dict()
            except DomainError as exc:
                problems += exc.problems
    if problems:
        raise DomainError(problems, status=403 if all(p.rule.startswith("R-SEK") for p in problems) else 400)
    assert target is not None and start_on is not None
    now = _now()
    request = CareRequest.objects.create(
        person=person,
        from_unit=unit,
        to_unit=target,
        reason=reason.strip(),
        health_summary=health_summary.strip(),
        requested_efforts=efforts,
        efforts_detail=efforts_detail.strip(),
        medication_responsibility=medication_responsibility,
        start_on=start_on,
        contact_name=contact_name.strip()[:200],
        contact_phone=contact_phone.strip()[:40],
        legal_basis=bases,
        sip=sip,
        created_by=actor.user,
        sent_at=now,
        awaiting_since=now,
    )
    involve(person, unit, Involvement.Kind.OUTPATIENT, request.source, at=now)
    involve(person, target, Involvement.Kind.OUTPATIENT, request.source, at=now)
    _event(actor, "care_request_sent", care_request=request, data={"to": _unit_ref(target), "bases": bases})
    return request


def _lock_request(request: CareRequest) -> CareRequest:
    return CareRequest.objects.select_for_update().select_related("person").get(pk=request.pk)


@transaction.atomic
def answer_care_request(
    actor: Actor, request: CareRequest, *, answer: str, reason: str = "", text: str = ""
) -> Event:
    """Municipal health care answers: accepted (the person is admitted into municipal health care), declined
    with a reason, or needs more information (with the question)."""
    unit = _require(actor, Perm.OUTPATIENT_MANAGE, "answer")
    if request.to_unit_id != unit.pk:
        raise NotFound
    request = _lock_request(request)
    if request.status != CareRequest.Status.SENT:
        raise DomainError.single("answer", "FEL-STATUS", _("Vårdbegäran väntar inte på svar."), status=409)
    problems = []
    if answer not in (
        CareRequest.Status.ACCEPTED,
        CareRequest.Status.DECLINED,
        CareRequest.Status.NEEDS_INFO,
    ):
        problems.append(Problem("answer", "OV-SVAR", _("Välj svar.")))
    if answer == CareRequest.Status.DECLINED:
        if reason not in rules.DECLINE_REASONS:
            problems.append(Problem("reason", "OV-SVAR", _("Ange skälet till att vårdbegäran avböjs.")))
        elif reason == "other" and not text.strip():
            problems.append(Problem("text", "OV-SVAR", _("Beskriv skälet.")))
    if answer == CareRequest.Status.NEEDS_INFO and not text.strip():
        problems.append(Problem("text", "OV-SVAR", _("Skriv vilken information som behövs.")))
    if problems:
        raise DomainError(problems)
    now = _now()
    request.status = answer
    request.answered_at = now
    request.answered_by = actor.user
    request.decline_reason = reason if answer == CareRequest.Status.DECLINED else ""
    request.answer_text = text.strip()
    request.save(update_fields=["status", "answered_at", "answered_by", "decline_reason", "answer_text"])
    if answer == CareRequest.Status.DECLINED:
        end_involvement(request.person, request.to_unit, request.source, at=now)
    return _event(
        actor,
        f"care_request_{answer}",
        care_request=request,
        data={"reason": reason, "text": text.strip()[:1000]},
    )


@transaction.atomic
def supplement_care_request(actor: Actor, request: CareRequest, *, text: str) -> Event:
    """The sender answers a question: the request waits for an answer again."""
    unit = _require(actor, Perm.OUTPATIENT_MANAGE, "text")
    if request.from_unit_id != unit.pk:
        raise NotFound
    request = _lock_request(request)
    if request.status != CareRequest.Status.NEEDS_INFO:
        raise DomainError.single("text", "FEL-STATUS", _("Ingen fråga väntar på svar."), status=409)
    if not text.strip():
        raise DomainError.single("text", "OV-SVAR", _("Skriv kompletteringen."))
    try:
        basis = decide_disclosure(request.person, "health", request.to_unit, unit)
    except DomainError as exc:
        raise DomainError(exc.problems, status=403) from exc
    request.status = CareRequest.Status.SENT
    request.awaiting_since = _now()
    request.save(update_fields=["status", "awaiting_since"])
    return _event(
        actor,
        "care_request_supplemented",
        care_request=request,
        data={"text": text.strip()[:2000], "basis": basis.as_dict()},
    )


@transaction.atomic
def withdraw_care_request(actor: Actor, request: CareRequest, *, text: str = "") -> Event:
    unit = _require(actor, Perm.OUTPATIENT_MANAGE, "text")
    if request.from_unit_id != unit.pk:
        raise NotFound
    request = _lock_request(request)
    if request.status not in (CareRequest.Status.SENT, CareRequest.Status.NEEDS_INFO):
        raise DomainError.single("status", "FEL-STATUS", _("Vårdbegäran kan inte återtas nu."), status=409)
    request.status = CareRequest.Status.WITHDRAWN
    request.save(update_fields=["status"])
    event = _event(actor, "care_request_withdrawn", care_request=request, data={"text": text.strip()[:500]})
    end_involvement(request.person, request.to_unit, request.source)
    return event


@transaction.atomic
def link_care_request_to_sip(actor: Actor, request: CareRequest, sip: Sip) -> Event:
    """A care request that needs a SIP: link it to one the active unit takes part in, for the same person."""
    unit = _require(actor, Perm.OUTPATIENT_MANAGE, "sip")
    if unit.pk not in (request.from_unit_id, request.to_unit_id):
        raise NotFound
    if sip.person_id != request.person_id or participation(actor, sip) is None:
        raise DomainError.single("sip", "OKAND-SIP", _("SIP:en gäller inte personen eller din enhet."))
    request = _lock_request(request)
    request.sip = sip
    request.save(update_fields=["sip"])
    return _event(actor, "care_request_linked_to_sip", care_request=request, data={"sip": sip.pk})
