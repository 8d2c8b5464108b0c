"""A SIP as a FHIR R4-shaped CarePlan (standards.md: CarePlan/CareTeam/Goal for SIP). Shaped, not validated
against a profile: the full FHIR API comes later. Only what the caller may see is included: the caller has
opened the SIP through the checked path, and the person is shown through the presenters (protected
identities stay masked)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from brygga.organisations.models import Unit
from brygga.people.presenters import display_name
from brygga.sip.models import Sip, SipVersion

HSA_SYSTEM = "urn:oid:1.2.752.129.2.1.4.1"
PERSONNUMMER_SYSTEM = "http://electronichealth.se/identifier/personnummer"

STATUS: dict[str, str] = {
    Sip.Status.NEED: "draft",
    Sip.Status.PREPARE: "draft",
    Sip.Status.SUMMONED: "draft",
    Sip.Status.MEETING: "draft",
    Sip.Status.FOLLOW_UP: "active",
    Sip.Status.CLOSED: "completed",
}


def _unit_ref(unit: Unit) -> dict[str, Any]:
    return {
        "reference": f"Organization/{unit.hsa_id}",
        "identifier": {"system": HSA_SYSTEM, "value": unit.hsa_id},
        "display": unit.name,
    }


def _iso(value) -> str | None:  # type: ignore[no-untyped-def]
    return timezone.localtime(value).isoformat() if value else None


def careplan(sip: Sip, version: SipVersion | None = None) -> dict[str, Any]:
    version = version or sip.current_version() or sip.draft()
    person = sip.person
    participants = list(sip.participants.select_related("unit"))
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": str(sip.pk),
        "meta": {"versionId": str(version.number) if version else "0"},
        "status": "revoked"
        if sip.status == Sip.Status.CLOSED and sip.close_reason == "person_declines"
        else STATUS[sip.status],
        "intent": "plan",
        "category": [{"text": "Samordnad individuell plan (SIP)"}],
        "title": "SIP",
        "subject": {
            "reference": f"Patient/{person.pk}",
            "identifier": {"system": PERSONNUMMER_SYSTEM, "value": person.identifier},
            "display": display_name(person),
        },
        "period": {"start": _iso(sip.created_at), "end": _iso(sip.closed_at)},
        "created": _iso(sip.created_at),
        "author": _unit_ref(sip.initiated_by_unit),
        "contributor": [_unit_ref(p.unit) for p in participants if p.unit is not None],
        "careTeam": [
            {
                "participant": [
                    {
                        "role": [
                            {"text": p.get_kind_display() + (f", {p.role_text}" if p.role_text else "")}
                        ],
                        "member": _unit_ref(p.unit)
                        if p.unit
                        else {"display": p.name or p.get_kind_display()},
                    }
                    for p in participants
                ]
            }
        ],
        "note": [],
        "activity": [],
    }
    if version is None:
        return resource
    if version.overall_responsible_unit:
        resource["extension"] = [
            {
                "url": "https://brygga.example/fhir/StructureDefinition/sip-overall-responsibility",
                "valueReference": _unit_ref(version.overall_responsible_unit),
            }
        ]
    resource["description"] = version.needs
    if version.what_matters:
        resource["goal"] = [{"display": version.what_matters}]
        resource["note"].append({"text": f"Vad är viktigt för dig: {version.what_matters}"})
    if version.other_efforts:
        resource["note"].append({"text": f"Insatser av andra: {version.other_efforts}"})
    for effort in version.efforts.select_related("responsible_unit"):
        performer = (
            [_unit_ref(effort.responsible_unit)]
            if effort.responsible_unit
            else [{"display": effort.performer_other}]
        )
        resource["activity"].append(
            {
                "detail": {
                    "status": "in-progress"
                    if version.status == SipVersion.Status.ESTABLISHED
                    else "not-started",
                    "description": effort.effort,
                    "reasonCode": [{"text": effort.need}] if effort.need else [],
                    "performer": performer,
                }
            }
        )
    for follow_up in sip.follow_ups.select_related("responsible_unit"):
        resource["activity"].append(
            {
                "detail": {
                    "kind": "Task",
                    "status": "completed" if follow_up.done_at else "scheduled",
                    "description": f"Uppföljning: {follow_up.description}",
                    "scheduledString": follow_up.due_on.isoformat(),
                    "performer": [_unit_ref(follow_up.responsible_unit)],
                }
            }
        )
    return resource
