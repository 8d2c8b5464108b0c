"""Writes from the EHR and the receiving systems, mapped onto the same service functions the UI and the JSON
API call (brygga.cases.services): the same rules, events, access log and inbox. Nothing here changes a row
itself; it reads the resource, decides which service call it means, and words refusals as OperationOutcomes.

The person behind a new Encounter is found through ``find_person_for_encounter`` — the single call site to
switch to the population-register look-up of the identity work (issue 15) when that lands."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime

from brygga.access.services import lookup_person, open_person
from brygga.accounts.context import Actor
from brygga.cases import services
from brygga.cases.models import Case, CaseEvent
from brygga.cases.rules import EXPECTED_DATE_REASONS
from brygga.core.errors import DomainError, NotFound
from brygga.fhir import mapping, systems
from brygga.fhir.outcome import FhirError, from_domain_error
from brygga.organisations.models import Unit
from brygga.people.models import Person

# A service's field → the FHIRPath of the element that carries it.
ENCOUNTER_PATHS = {
    "identifier": "Encounter.subject",
    "person": "Encounter.subject",
    "admitted_at": "Encounter.period.start",
    "care_type": "Encounter.type",
    "expected_discharge_date": "Encounter.extension('plannedEndDate')",
    "need_assessed_at": "Encounter.extension('need-assessed')",
    "external_id": "Encounter.identifier",
    "ward": "Encounter.serviceProvider",
    "to_ward": "Encounter.serviceProvider",
    "reason": "Encounter.extension('expected-date-change-reason')",
    "comment": "Encounter.extension('expected-date-change-reason')",
    "discharged_at": "Encounter.period.end",
    "status": "Encounter.status",
    "at": "Encounter.status",
    "checklist": "Encounter.status",
}
TASK_PATHS = {
    "recipients": "Task.owner",
    "discharge_ready_at": "Task.authoredOn",
    "at": "Task.authoredOn",
    "assessed_at": "Task.authoredOn",
    "reason": "Task.statusReason",
    "sip": "Task.code",
    "status": "Task.encounter",
}


def _refuse(rule: str, message: str, expression: str, status: int = 422, code: str = "") -> FhirError:
    return FhirError.single(status, rule, message, expression, code or "business-rule")


def _datetime(value: Any, path: str) -> dt.datetime:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        raise _refuse("FHIR-TIDPUNKT", "Ange en tidpunkt med tidszon.", path, code="invalid")
    return parsed


def _date(value: Any, path: str) -> dt.date:
    if isinstance(value, str):
        found = parse_date(value[:10])
        if found is not None:
            return found
    raise _refuse("FHIR-DATUM", "Ange ett datum (ÅÅÅÅ-MM-DD).", path, code="invalid")


def _extension(resource: dict[str, Any], url: str) -> dict[str, Any] | None:
    for ext in resource.get("extension") or []:
        if ext.get("url") == url:
            return dict(ext)
    return None


# --- references ---------------------------------------------------------------------------------------------


def find_person_for_encounter(actor: Actor, identifier: str) -> Person:
    """The person an EHR names by identity number. Today the person must already be known to brygga
    (``access.services.lookup_person``: checked, logged). The population-register look-up of the identity
    work replaces this one call; nothing else needs to change."""
    return lookup_person(actor, identifier)


def person_from_reference(actor: Actor, reference: dict[str, Any], path: str) -> Person:
    """``{"reference": "Patient/<id>"}`` (a person the unit may already see) or ``{"identifier": {system,
    value}}`` with a personnummer, samordningsnummer or VGR reserve number."""
    try:
        if reference.get("reference"):
            kind, _sep, pk = str(reference["reference"]).partition("/")
            if kind != "Patient" or not pk:
                raise _refuse("FHIR-REFERENS", "Referensen ska vara Patient/<id>.", path, code="invalid")
            return open_person(actor, pk, what="fhir:Encounter")
        identifier = reference.get("identifier") or {}
        if identifier.get("system") not in systems.ACCEPTED_PERSON_SYSTEMS or not identifier.get("value"):
            raise _refuse(
                "FHIR-IDENTIFIERARE",
                "Ange patienten med personnummer, samordningsnummer eller reservnummer "
                f"(system {systems.PERSONNUMMER}).",
                f"{path}.identifier",
                code="code-invalid",
            )
        return find_person_for_encounter(actor, str(identifier["value"]))
    except NotFound as exc:
        raise _refuse(
            "OKAND-PERSON", "Personen finns inte eller hör inte till enheten.", path, code="not-found"
        ) from exc
    except DomainError as exc:
        raise from_domain_error(exc, {"identifier": f"{path}.identifier"}, "Encounter") from exc


def unit_from_reference(reference: dict[str, Any] | None, path: str) -> Unit | None:
    if not reference:
        return None
    unit: Unit | None = None
    if reference.get("reference"):
        kind, _sep, pk = str(reference["reference"]).partition("/")
        if kind == "Organization" and pk.isdecimal():
            unit = Unit.objects.filter(pk=int(pk)).first()
    elif (reference.get("identifier") or {}).get("system") == systems.HSA_ID:
        unit = Unit.objects.filter(hsa_id=reference["identifier"].get("value", "")).first()
    if unit is None:
        raise _refuse(
            "OKAND-ENHET", "Okänd enhet (ange Organization/<id> eller HSA-id).", path, code="not-found"
        )
    return unit


def case_from_reference(actor: Actor, reference: dict[str, Any] | None, path: str) -> Case:
    kind, _sep, pk = str((reference or {}).get("reference") or "").partition("/")
    if kind != "Encounter" or not pk:
        raise _refuse("OBLIGATORISK", "Ange vårdtillfället: Encounter/<id>.", path, code="required")
    try:
        return services.open_case(actor, pk, what="fhir")
    except NotFound as exc:
        raise _refuse("OKAND-ARENDE", "Vårdtillfället finns inte eller hör inte till enheten.", path) from exc


# --- Encounter ----------------------------------------------------------------------------------------------


def _care_type(resource: dict[str, Any]) -> str:
    for concept in resource.get("type") or []:
        for coding in concept.get("coding") or []:
            if coding.get("system") == systems.CARE_TYPE:
                if coding.get("code") not in Case.CareType.values:
                    raise _refuse(
                        "FHIR-KOD",
                        "Vårdformen är somatic eller psychiatric.",
                        "Encounter.type",
                        code="code-invalid",
                    )
                return str(coding["code"])
    raise _refuse(
        "OBLIGATORISK",
        f"Ange vårdformen (Encounter.type med system {systems.CARE_TYPE}).",
        "Encounter.type",
        code="required",
    )


def _external_id(resource: dict[str, Any]) -> str:
    identifiers = resource.get("identifier") or []
    if len(identifiers) > 1:
        raise _refuse("FHIR-IDENTIFIERARE", "Ange högst ett id för vårdtillfället.", "Encounter.identifier")
    value = str((identifiers[0] if identifiers else {}).get("value") or "")
    if len(value) > 64:
        raise _refuse(
            "FHIR-IDENTIFIERARE", "Vårdtillfällets id får vara högst 64 tecken.", "Encounter.identifier[0]"
        )
    return value


def _planned_end(resource: dict[str, Any]) -> dt.date | None:
    ext = _extension(resource, systems.PLANNED_END_DATE)
    if ext is None:
        return None
    value = ext.get("valueDateTime") or ext.get("valueDate")
    return _date(value, "Encounter.extension('plannedEndDate')")


def _need_assessed(resource: dict[str, Any]) -> dt.datetime | None:
    ext = _extension(resource, systems.NEED_ASSESSED)
    if ext is None:
        return None
    return _datetime(ext.get("valueDateTime"), "Encounter.extension('need-assessed')")


def _check_class(resource: dict[str, Any]) -> None:
    cls = resource.get("class") or {}
    if cls.get("system") != systems.ACT_CODE or cls.get("code") not in ("IMP", "ACUTE", "EMER"):
        raise _refuse(
            "FHIR-KOD",
            "Vårdtillfället är slutenvård: class IMP (eller ACUTE/EMER) ur v3-ActCode.",
            "Encounter.class",
            code="code-invalid",
        )


def _own_ward(actor: Actor, resource: dict[str, Any]) -> None:
    unit = unit_from_reference(resource.get("serviceProvider"), "Encounter.serviceProvider")
    if unit is not None and unit != actor.unit:
        raise _refuse(
            "AVSANDARE", "serviceProvider ska vara den egna avdelningen.", "Encounter.serviceProvider", 422
        )


def create_encounter(actor: Actor, resource: dict[str, Any]) -> Case:
    """services.admit from an Encounter in progress."""
    if resource.get("status") != "in-progress":
        raise _refuse(
            "FHIR-STATUS",
            "Ett nytt vårdtillfälle har status in-progress.",
            "Encounter.status",
            code="code-invalid",
        )
    _check_class(resource)
    _own_ward(actor, resource)
    if not (resource.get("subject") or {}):
        raise _refuse("R-INS-4", "Ange patienten (personnummer).", "Encounter.subject", code="required")
    start = (resource.get("period") or {}).get("start")
    if not start:
        raise _refuse("OBLIGATORISK", "Ange inskrivningstiden.", "Encounter.period.start", code="required")
    admitted_at = _datetime(start, "Encounter.period.start")
    care_type = _care_type(resource)
    person = person_from_reference(actor, resource["subject"], "Encounter.subject")
    try:
        return services.admit(
            actor,
            person,
            admitted_at=admitted_at,
            care_type=care_type,
            expected_discharge_date=_planned_end(resource),
            need_assessed_at=_need_assessed(resource),
            external_id=_external_id(resource),
        )
    except DomainError as exc:
        raise from_domain_error(exc, ENCOUNTER_PATHS, "Encounter") from exc


def find_by_identifier(actor: Actor, criteria: str) -> list[Case]:
    """``If-None-Exist: identifier=[system|]value``: the ward's own cases with that encounter id."""
    name, _sep, value = criteria.partition("=")
    if name.strip() != "identifier" or not value:
        raise _refuse(
            "FHIR-VILLKOR",
            "If-None-Exist stöder identifier=[system|]värde.",
            "If-None-Exist",
            400,
            "not-supported",
        )
    _system, _bar, code = value.rpartition("|")
    if actor.unit is None:
        return []
    return list(services.unit_cases(actor.unit).filter(ward=actor.unit, external_id=code.strip()).distinct())


def _expected_date_reason(resource: dict[str, Any]) -> tuple[str, str]:
    ext = _extension(resource, systems.EXPECTED_DATE_CHANGE_REASON) or {}
    concept = ext.get("valueCodeableConcept") or {}
    code = next(
        (
            c.get("code")
            for c in concept.get("coding") or []
            if c.get("system") == systems.EXPECTED_DATE_REASON
        ),
        "",
    )
    if code and code not in EXPECTED_DATE_REASONS:
        raise _refuse(
            "FHIR-KOD",
            "Okänd orsak; se CodeSystem expected-date-reason.",
            "Encounter.extension('expected-date-change-reason')",
            code="code-invalid",
        )
    return str(code or ""), str(concept.get("text") or "")


def update_encounter(actor: Actor, case: Case, resource: dict[str, Any]) -> None:
    """One PUT may change the expected date (R-INS-5, with its coded reason), the status (leave, back,
    discharge: period.end) and the ward (transfer) — each through its service, all in one transaction."""
    if resource.get("id") not in (None, str(case.pk)):
        raise _refuse(
            "FHIR-ID", "Resursens id ska vara samma som i adressen.", "Encounter.id", 400, "invalid"
        )
    _check_class(resource)
    subject = resource.get("subject") or {}
    if subject.get("reference") not in (None, f"Patient/{case.person_id}") or (
        not subject.get("reference") and subject.get("identifier", {}).get("value") != case.person.identifier
    ):
        raise _refuse("PATIENT-ANDRAD", "Patienten kan inte bytas på ett vårdtillfälle.", "Encounter.subject")
    start = (resource.get("period") or {}).get("start")
    if start and _datetime(start, "Encounter.period.start") != case.admitted_at:
        raise _refuse(
            "RE-INSKRIVNING",
            "Inskrivningstiden rättas med en rättelse av meddelandet (RE_), inte med en uppdatering.",
            "Encounter.period.start",
        )
    external = _external_id(resource)
    if external and external != case.external_id:
        raise _refuse("FHIR-IDENTIFIERARE", "Vårdtillfällets id kan inte ändras.", "Encounter.identifier")
    try:
        new_ward = unit_from_reference(resource.get("serviceProvider"), "Encounter.serviceProvider")
        planned = _planned_end(resource)
        if planned != case.expected_discharge_date:
            reason, comment = _expected_date_reason(resource)
            services.change_expected_date(actor, case, planned, reason, comment)
        status = resource.get("status")
        current = mapping.ENCOUNTER_STATUS[Case.Status(case.status)]
        if status != current:
            _change_status(actor, case, current, str(status), resource)
        if new_ward is not None and new_ward.pk != case.ward_id:
            services.transfer(actor, case, new_ward)
    except DomainError as exc:
        raise from_domain_error(exc, ENCOUNTER_PATHS, "Encounter") from exc


def _change_status(actor: Actor, case: Case, current: str, status: str, resource: dict[str, Any]) -> None:
    if current == "in-progress" and status == "onleave":
        services.start_leave(actor, case)
    elif current == "onleave" and status == "in-progress":
        services.end_leave(actor, case)
    elif current in ("in-progress", "onleave") and status == "finished":
        end = (resource.get("period") or {}).get("end")
        if not end:
            raise _refuse("OBLIGATORISK", "Ange utskrivningstiden.", "Encounter.period.end", code="required")
        disposition = ((resource.get("hospitalization") or {}).get("dischargeDisposition") or {}).get(
            "text", ""
        )
        services.discharge(actor, case, _datetime(end, "Encounter.period.end"), str(disposition)[:200])
    else:
        raise _refuse(
            "FEL-STATUS",
            f"Statusbytet {current} → {status} görs inte genom FHIR (makulering och dödsfall: i brygga).",
            "Encounter.status",
            409,
            "business-rule",
        )


# --- Task ---------------------------------------------------------------------------------------------------


def _task_code(resource: dict[str, Any]) -> str:
    for coding in (resource.get("code") or {}).get("coding") or []:
        if coding.get("system") == systems.TASK_CODES and coding.get("code") in mapping.TASK_CODE_TO_KIND:
            return str(coding["code"])
    raise _refuse(
        "FHIR-KOD",
        "Task.code ska vara inskrivningsmeddelande, utskrivningsklar eller sip-kallelse "
        f"ur {systems.TASK_CODES}.",
        "Task.code",
        code="code-invalid",
    )


def create_task(actor: Actor, resource: dict[str, Any]) -> CaseEvent:
    """The sending unit's request: the admission notice (owner = one chosen receiver, else addressed from the
    population register and listing, R-INS-7), discharge-ready (a physician's token, R-DEF-UK-1) or the SIP
    summons (the vårdcentral, R-FVK-2). The answer is the parent Task of the event written."""
    if resource.get("status") != "requested" or resource.get("intent") != "order":
        raise _refuse(
            "FHIR-STATUS",
            "En ny Task har status requested och intent order.",
            "Task.status",
            code="code-invalid",
        )
    code = _task_code(resource)
    case = case_from_reference(actor, resource.get("encounter"), "Task.encounter")
    subject = (resource.get("for") or {}).get("reference")
    if subject and subject != f"Patient/{case.person_id}":
        raise _refuse("PATIENT-ANDRAD", "Task.for ska vara vårdtillfällets patient.", "Task.for")
    at = _datetime(resource["authoredOn"], "Task.authoredOn") if resource.get("authoredOn") else None
    try:
        if code == "inskrivningsmeddelande":
            owner = unit_from_reference(resource.get("owner"), "Task.owner")
            recipients = [owner.hsa_id] if owner is not None else None
            return services.send_admission_notice(actor, case, recipients=recipients)
        if code == "utskrivningsklar":
            return services.set_discharge_ready(actor, case, at)
        return services.send_sip_summons(actor, case, at)
    except DomainError as exc:
        raise from_domain_error(exc, TASK_PATHS, "Task") from exc


def update_task(actor: Actor, event: CaseEvent, owner_unit_id: int | None, resource: dict[str, Any]) -> None:
    """A status change is the only change a Task takes: a receiving unit's Task to ``received``/``accepted``
    is its acknowledgement (kvittering, services.acknowledge); the discharge-ready parent to ``cancelled``
    (with statusReason) is the physician's withdrawal (R-UK-2)."""
    status = resource.get("status")
    case = services.open_case(actor, event.case_id, what="fhir:Task")
    try:
        if owner_unit_id is not None:
            if owner_unit_id != (actor.unit.pk if actor.unit else None):
                raise _refuse(
                    "MOTTAGARE", "Bara den mottagande enheten kvitterar sin Task.", "Task.owner", 403
                )
            if status not in ("received", "accepted", "requested"):
                raise _refuse(
                    "FHIR-STATUS", "En mottagare kvitterar med status received eller accepted.", "Task.status"
                )
            if status != "requested":
                services.acknowledge(actor, case)
            return
        if status == "cancelled" and event.kind == CaseEvent.Kind.DISCHARGE_READY_SET:
            reason = str((resource.get("statusReason") or {}).get("text") or "")
            services.withdraw_discharge_ready(actor, case, reason)
            return
        if status in ("requested", "completed"):
            return  # unchanged (the parent's status follows its receivers)
        raise _refuse(
            "FHIR-STATUS",
            "Den här Task ändras bara genom att återta utskrivningsklar (status cancelled).",
            "Task.status",
        )
    except DomainError as exc:
        raise from_domain_error(exc, TASK_PATHS, "Task") from exc
