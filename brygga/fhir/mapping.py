"""brygga's objects as FHIR R4 resources (plain dicts, valid against the R4B models — the tests check every
one). The cases app stays the source of truth: nothing here is stored, every resource is built from the rows
and the immutable events on each read (ADR 0600)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Q

from brygga.cases.models import Case, CaseEvent, Participant
from brygga.fhir import systems
from brygga.organisations.models import Unit
from brygga.people.models import Person
from brygga.people.presenters import display_name

Kind = CaseEvent.Kind

# Events that change what the Encounter resource shows; each one is a new version (meta.versionId).
ENCOUNTER_KINDS = (
    Kind.ADMITTED,
    Kind.ADMISSION_NOTICE_SENT,
    Kind.EXPECTED_DATE_CHANGED,
    Kind.DISCHARGE_READY_SET,
    Kind.DISCHARGE_READY_WITHDRAWN,
    Kind.DISCHARGED,
    Kind.DISCHARGE_NOTICE_SENT,
    Kind.CLOSED,
    Kind.CANCELLED,
    Kind.TRANSFERRED,
    Kind.LEAVE_STARTED,
    Kind.LEAVE_ENDED,
    Kind.DIED,
    Kind.NOTICE_CORRECTED,
    Kind.NOTICE_CANCELLED,
)

ENCOUNTER_STATUS = {
    Case.Status.ADMITTED: "in-progress",
    Case.Status.ON_LEAVE: "onleave",
    Case.Status.DISCHARGED: "finished",
    Case.Status.DIED: "finished",
    Case.Status.CLOSED: "finished",
    Case.Status.CANCELLED: "cancelled",
}

# The Tasks a case's events stand for (standards.md §2.1): code and Swedish display.
TASK_KINDS = {
    Kind.ADMISSION_NOTICE_SENT: ("inskrivningsmeddelande", "Inskrivningsmeddelande"),
    Kind.DISCHARGE_READY_SET: ("utskrivningsklar", "Utskrivningsklar"),
    Kind.SIP_SUMMONS_SENT: ("sip-kallelse", "Kallelse till SIP"),
}
TASK_CODE_TO_KIND = {code: kind for kind, (code, _display) in TASK_KINDS.items()}


def iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def instant(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


# --- Organization -------------------------------------------------------------------------------------------


def hsa_identifier(unit: Unit) -> dict[str, Any]:
    return {
        "type": {"coding": [{"system": systems.V2_0203, "code": "PRN"}]},
        "system": systems.HSA_ID,
        "value": unit.hsa_id,
    }


def unit_reference(unit: Unit) -> dict[str, Any]:
    return {
        "reference": f"Organization/{unit.pk}",
        "identifier": {"system": systems.HSA_ID, "value": unit.hsa_id},
        "display": unit.name,
    }


def organization(unit: Unit) -> dict[str, Any]:
    return {
        "resourceType": "Organization",
        "id": str(unit.pk),
        "identifier": [hsa_identifier(unit)],
        "active": unit.is_active,
        "type": [
            {
                "coding": [{"system": f"{systems.CANONICAL}/CodeSystem/unit-kind", "code": unit.kind}],
                "text": str(unit.get_kind_display()),
            }
        ],
        "name": unit.name,
    }


# --- Patient ------------------------------------------------------------------------------------------------


def person_identifier(person: Person) -> dict[str, Any]:
    return {"system": systems.PERSON_SYSTEMS[person.id_kind], "value": person.identifier}


def patient(person: Person, revealed: bool = False) -> dict[str, Any]:
    """SEBasePatient-shaped. A protected identity (skyddade personuppgifter) carries the security label and
    neither name nor address, unless the role may reveal it (people.presenters decides, as everywhere)."""
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(person.pk),
        "identifier": [person_identifier(person)],
    }
    if person.protected_identity:
        resource["meta"] = {"security": [{"system": systems.SECURITY_LABEL, "code": "sekretessmarkering"}]}
    if not person.protected_identity or revealed:
        resource["name"] = [
            {"family": person.family_name, "given": [person.given_name], "text": display_name(person, True)}
        ]
        if person.street_address or person.city:
            address: dict[str, Any] = {"use": "home", "type": "physical"}
            if person.street_address:
                address["line"] = [person.street_address]
            if person.postal_code:
                address["postalCode"] = person.postal_code
            if person.city:
                address["city"] = person.city
            if person.registered_municipality is not None:
                address["district"] = person.registered_municipality.name
            resource["address"] = [address]
    if person.birth_date:
        resource["birthDate"] = person.birth_date.isoformat()
    if person.deceased_on:
        resource["deceasedDateTime"] = person.deceased_on.isoformat()
    if person.listed_unit is not None:
        resource["generalPractitioner"] = [unit_reference(person.listed_unit)]
    return resource


# --- Encounter ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    number: int
    updated: dt.datetime


def versions(case_ids: Iterable[int]) -> dict[int, Version]:
    """Each case's Encounter version: the number of its events that change the Encounter (append-only, so it
    only grows), and the time of the newest. One query for any number of cases."""
    rows = (
        CaseEvent.objects.filter(case_id__in=list(case_ids), kind__in=ENCOUNTER_KINDS)
        .values("case_id")
        .annotate(n=Count("id"), last=Max("recorded_at"))
    )
    return {r["case_id"]: Version(r["n"], r["last"]) for r in rows}


def case_for_answer(pk: int) -> tuple[Case, Version]:
    """A case the caller has just opened or written (``open_case``), with its ward, person and Encounter
    version, in one statement: the answer of every Encounter read and write."""
    versioned = Q(events__kind__in=ENCOUNTER_KINDS)
    case = (
        Case.objects.select_related("ward", "person")
        .annotate(
            version_number=Count("events", filter=versioned),
            version_updated=Max("events__recorded_at", filter=versioned),
        )
        .get(pk=pk)
    )
    return case, Version(case.version_number, case.version_updated)  # type: ignore[attr-defined]


def etag(version: Version) -> str:
    return f'W/"{version.number}"'


def encounter(case: Case, version: Version) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": str(case.pk),
        "meta": {"versionId": str(version.number), "lastUpdated": instant(version.updated)},
        "status": ENCOUNTER_STATUS[Case.Status(case.status)],
        "class": {"system": systems.ACT_CODE, "code": "IMP", "display": "inpatient encounter"},
        "type": [
            {
                "coding": [
                    {
                        "system": systems.CARE_TYPE,
                        "code": case.care_type,
                        "display": str(case.get_care_type_display()),
                    }
                ]
            }
        ],
        "subject": {"reference": f"Patient/{case.person_id}"},
        "serviceProvider": unit_reference(case.ward),
        "period": {"start": instant(case.admitted_at)},
    }
    if case.external_id:
        resource["identifier"] = [
            {"system": systems.encounter_identifier_system(case.ward.hsa_id), "value": case.external_id}
        ]
    if case.discharged_at:
        resource["period"]["end"] = instant(case.discharged_at)
    extensions = []
    if case.expected_discharge_date:
        extensions.append(
            {"url": systems.PLANNED_END_DATE, "valueDateTime": case.expected_discharge_date.isoformat()}
        )
    if case.need_assessed_at:
        extensions.append({"url": systems.NEED_ASSESSED, "valueDateTime": instant(case.need_assessed_at)})
    if extensions:
        resource["extension"] = extensions
    return resource


# --- Task ---------------------------------------------------------------------------------------------------


@dataclass
class TaskContext:
    """What the Tasks of some events need besides the events: the cases' participants and the events that
    cancel a Task (a withdrawn discharge-ready, a cancelled notice). Loaded in three queries for all."""

    participants: dict[int, list[Participant]]
    withdrawals: dict[int, list[CaseEvent]]
    cancelled_targets: dict[int, CaseEvent]

    @classmethod
    def load(cls, case_ids: Iterable[int]) -> TaskContext:
        ids = list(set(case_ids))
        participants: dict[int, list[Participant]] = {}
        for p in Participant.objects.filter(case_id__in=ids).select_related("unit").order_by("pk"):
            participants.setdefault(p.case_id, []).append(p)
        withdrawals: dict[int, list[CaseEvent]] = {}
        cancelled: dict[int, CaseEvent] = {}
        for e in CaseEvent.objects.filter(
            Q(kind=Kind.DISCHARGE_READY_WITHDRAWN) | Q(kind=Kind.NOTICE_CANCELLED), case_id__in=ids
        ).order_by("recorded_at", "pk"):
            if e.kind == Kind.DISCHARGE_READY_WITHDRAWN:
                withdrawals.setdefault(e.case_id, []).append(e)
            elif e.data.get("target_event"):
                cancelled[int(e.data["target_event"])] = e
        return cls(participants, withdrawals, cancelled)

    def cancellation(self, event: CaseEvent) -> CaseEvent | None:
        if event.pk in self.cancelled_targets:
            return self.cancelled_targets[event.pk]
        if event.kind == Kind.DISCHARGE_READY_SET:
            for w in self.withdrawals.get(event.case_id, []):
                if w.recorded_at >= event.recorded_at:
                    return w
        return None

    def owners(self, event: CaseEvent) -> list[Participant]:
        """The receiving units the event was addressed to: the other units taking part when it was sent (the
        ward too, for the vårdcentral's SIP summons)."""
        return [
            p
            for p in self.participants.get(event.case_id, [])
            if p.unit_id != event.unit_id and p.added_at <= event.recorded_at
        ]


def task_id(event: CaseEvent, owner: Participant | None = None) -> str:
    return f"{event.pk}-{owner.unit_id}" if owner is not None else str(event.pk)


def _owner_status(event: CaseEvent, owner: Participant) -> str:
    if owner.status == Participant.Status.REJECTED:
        return "rejected"
    if owner.acknowledged_at is not None and owner.acknowledged_at >= event.recorded_at:
        return "received"
    return "requested"


def task(
    event: CaseEvent, case: Case, context: TaskContext, owner: Participant | None = None
) -> dict[str, Any]:
    """The event as a Task. Without ``owner``: the ward's request (the parent); with one: the receiving unit's
    own Task (``partOf`` the parent, ``owner`` its unit), whose status is its acknowledgement."""
    code, display = TASK_KINDS[Kind(event.kind)]
    cancelled = context.cancellation(event)
    owners = context.owners(event)
    if cancelled is not None:
        status = "cancelled"
    elif owner is not None:
        status = _owner_status(event, owner)
    elif owners and all(_owner_status(event, p) != "requested" for p in owners):
        status = "completed"
    else:
        status = "requested"
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": task_id(event, owner),
        "status": status,
        "intent": "order",
        "code": {"coding": [{"system": systems.TASK_CODES, "code": code, "display": display}]},
        "for": {"reference": f"Patient/{case.person_id}"},
        "encounter": {"reference": f"Encounter/{case.pk}"},
        "authoredOn": instant(event.occurred_at),
        "requester": unit_reference(event.unit),
    }
    last_modified = event.recorded_at
    if owner is not None:
        resource["owner"] = unit_reference(owner.unit)
        resource["partOf"] = [{"reference": f"Task/{task_id(event)}"}]
        if status == "received" and owner.acknowledged_at:
            last_modified = max(last_modified, owner.acknowledged_at)
    if cancelled is not None:
        last_modified = max(last_modified, cancelled.recorded_at)
        reason = cancelled.data.get("reason") or ""
        text = cancelled.data.get("text") or ""
        resource["statusReason"] = {
            "text": " — ".join(x for x in (str(reason), str(text)) if x) or "återtagen"
        }
    resource["lastModified"] = instant(last_modified)
    due = event.data.get("sip_summons_due_at") if event.kind == Kind.DISCHARGE_READY_SET else None
    if event.kind == Kind.SIP_SUMMONS_SENT:
        due = event.data.get("due_at")
    if due:
        resource["restriction"] = {"period": {"end": due}}
    return resource


def tasks_of(event: CaseEvent, case: Case, context: TaskContext, unit: Unit) -> list[dict[str, Any]]:
    """The Tasks of one event that ``unit`` may see: the parent, and every receiving unit's Task for the
    sending unit, only its own for a receiving unit."""
    found = [task(event, case, context)]
    for owner in context.owners(event):
        if unit.pk in (event.unit_id, case.ward_id) or owner.unit_id == unit.pk:
            found.append(task(event, case, context, owner))
    return found
