"""The outpatient process: the care request (vårdbegäran) from its sending to its answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.access.models import Involvement
from brygga.access.services import (
    end_involvement,
    involve,
)
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.consent.services import decide_disclosure
from brygga.core.errors import DomainError, NotFound, Problem
from brygga.organisations.models import Unit
from brygga.people.models import Person
from brygga.sip import rules
from brygga.sip.models import (
    CareRequest,
    Event,
    Sip,
)
from brygga.sip.services.common import (
    MUNICIPAL_HEALTH_KINDS,
    _now,
    _person_for_start,
    _require,
    _resolve_unit,
    _unit_ref,
    participation,
    record_event,
)

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
    record_event(
        actor, "care_request_sent", care_request=request, data={"to": _unit_ref(target), "bases": bases}
    )
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
    return record_event(
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
    return record_event(
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
    event = record_event(
        actor, "care_request_withdrawn", care_request=request, data={"text": text.strip()[:500]}
    )
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
    return record_event(actor, "care_request_linked_to_sip", care_request=request, data={"sip": sip.pk})
