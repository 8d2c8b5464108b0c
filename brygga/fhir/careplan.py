"""A SIP as a FHIR R4 CarePlan (standards.md: CarePlan + CareTeam for SIP), valid against the R4B models
(tests/test_sip_web.py, tests/test_fhir.py): the CareTeam is a contained resource referenced from
``CarePlan.careTeam`` (R4 allows only a reference there), absent values are left out rather than ``null``, and
the identifier systems come from ``brygga.fhir.systems`` (HL7 Sweden basprofiler). Only what the caller may
see is included: the caller has opened the SIP through the checked path, and the person is shown through the
presenters (protected identities stay masked). Served at ``GET /api/v1/sip/{id}/careplan`` and
``GET /fhir/r4/CarePlan/{id}``."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from ninja import Router

from brygga.accounts.context import AuthedRequest
from brygga.core.idempotency import jsonable
from brygga.fhir import systems
from brygga.fhir.mapping import unit_reference
from brygga.people.presenters import display_name
from brygga.sip.models import Sip, SipVersion
from brygga.sip.services import open_sip

STATUS: dict[str, str] = {
    Sip.Status.NEED: "draft",
    Sip.Status.PREPARE: "draft",
    Sip.Status.SUMMONED: "draft",
    Sip.Status.MEETING: "draft",
    Sip.Status.FOLLOW_UP: "active",
    Sip.Status.CLOSED: "completed",
}
OVERALL_RESPONSIBILITY = f"{systems.CANONICAL}/StructureDefinition/sip-overall-responsibility"


def _iso(value) -> str | None:  # type: ignore[no-untyped-def]
    return timezone.localtime(value).isoformat() if value else None


def _care_team(sip: Sip, participants: list[Any]) -> dict[str, Any]:
    team: dict[str, Any] = {
        "resourceType": "CareTeam",
        "id": "sip-team",
        "status": "active" if sip.status != Sip.Status.CLOSED else "inactive",
        "subject": {"reference": f"Patient/{sip.person_id}"},
    }
    members = []
    for p in participants:
        role = p.get_kind_display() + (f", {p.role_text}" if p.role_text else "")
        member = unit_reference(p.unit) if p.unit else {"display": p.name or p.get_kind_display()}
        members.append({"role": [{"text": role}], "member": member})
    if members:
        team["participant"] = members
    return team


def careplan(sip: Sip, version: SipVersion | None = None) -> dict[str, Any]:
    version = version or sip.current_version() or sip.draft()
    person = sip.person
    participants = list(sip.participants.select_related("unit"))
    period: dict[str, Any] = {"start": _iso(sip.created_at)}
    if sip.closed_at:
        period["end"] = _iso(sip.closed_at)
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": str(sip.pk),
        "meta": {"versionId": str(version.number) if version else "0"},
        "contained": [_care_team(sip, participants)],
        "status": "revoked"
        if sip.status == Sip.Status.CLOSED and sip.close_reason == "person_declines"
        else STATUS[sip.status],
        "intent": "plan",
        "category": [{"text": "Samordnad individuell plan (SIP)"}],
        "title": "SIP",
        "subject": {
            "reference": f"Patient/{person.pk}",
            "identifier": {"system": systems.PERSON_SYSTEMS[person.id_kind], "value": person.identifier},
            "display": display_name(person),
        },
        "period": period,
        "created": _iso(sip.created_at),
        "author": unit_reference(sip.initiated_by_unit),
        "careTeam": [{"reference": "#sip-team"}],
    }
    contributors = [unit_reference(p.unit) for p in participants if p.unit is not None]
    if contributors:
        resource["contributor"] = contributors
    if version is None:
        return resource
    if version.overall_responsible_unit:
        resource["extension"] = [
            {
                "url": OVERALL_RESPONSIBILITY,
                "valueReference": unit_reference(version.overall_responsible_unit),
            }
        ]
    if version.needs:
        resource["description"] = version.needs
    notes = []
    if version.what_matters:
        resource["goal"] = [{"display": version.what_matters}]
        notes.append({"text": f"Vad är viktigt för dig: {version.what_matters}"})
    if version.other_efforts:
        notes.append({"text": f"Insatser av andra: {version.other_efforts}"})
    if notes:
        resource["note"] = notes
    activities = []
    for effort in version.efforts.select_related("responsible_unit"):
        detail: dict[str, Any] = {
            "status": "in-progress" if version.status == SipVersion.Status.ESTABLISHED else "not-started",
            "description": effort.effort,
            "performer": [unit_reference(effort.responsible_unit)]
            if effort.responsible_unit
            else [{"display": effort.performer_other}],
        }
        if effort.need:
            detail["reasonCode"] = [{"text": effort.need}]
        activities.append({"detail": detail})
    for follow_up in sip.follow_ups.select_related("responsible_unit"):
        activities.append(
            {
                "detail": {
                    "kind": "Task",
                    "status": "completed" if follow_up.done_at else "scheduled",
                    "description": f"Uppföljning: {follow_up.description}",
                    "scheduledString": follow_up.due_on.isoformat(),
                    "performer": [unit_reference(follow_up.responsible_unit)],
                }
            }
        )
    if activities:
        resource["activity"] = activities
    return resource


def add_careplan_route(router: Router) -> None:
    """``GET /sip/{sip_id}/careplan`` on the SIP API's router: the SIP through ``open_sip`` (logged) as a
    CarePlan. Added from here because the FHIR app sits above the SIP app (ADR 0009); the operation keeps the
    id it had when the SIP app declared it."""

    @router.get(
        "/{sip_id}/careplan",
        summary="SIP som FHIR CarePlan (R4-formad JSON; loggas)",
        operation_id="brygga_sip_api_careplan",
    )
    def careplan_of_sip(request: AuthedRequest, sip_id: int) -> dict[str, Any]:
        sip = open_sip(request.actor, sip_id, what="careplan")
        return jsonable(careplan(sip))
