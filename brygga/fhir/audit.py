"""A person's access-log extract (R-LOG-3) as AuditEvents shaped after IHE Basic Audit Log Patterns (BALP):
one AuditEvent per entry — the REST interaction as ``subtype``, the unit (HSA-id) and role as the agent, the
patient as the entity. Which units read the data and when, as the extract page shows it; entries for refused
reads (``denied``) are left out there and here."""

from __future__ import annotations

from typing import Any

from brygga.access.models import AccessLogEntry
from brygga.fhir import systems
from brygga.fhir.mapping import instant

Action = AccessLogEntry.Action
INTERACTION = {
    Action.READ: ("read", "R"),
    Action.CREATE: ("create", "C"),
    Action.UPDATE: ("update", "U"),
    Action.LOOKUP: ("search-type", "E"),
    Action.REVEAL: ("read", "R"),
    Action.EXPORT: ("read", "R"),
    Action.DENIED: ("read", "R"),
}


def audit_event(entry: AccessLogEntry, patient_id: int) -> dict[str, Any]:
    interaction, action = INTERACTION.get(Action(entry.action), ("read", "R"))
    agent: dict[str, Any] = {
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/extra-security-role-type",
                    "code": "humanuser",
                }
            ]
        },
        "who": {"display": entry.unit_label},
        "requestor": True,
    }
    if entry.unit_hsa_id:
        agent["who"]["identifier"] = {"system": systems.HSA_ID, "value": entry.unit_hsa_id}
    if entry.role:
        agent["role"] = [{"text": entry.role}]
    return {
        "resourceType": "AuditEvent",
        "id": str(entry.pk),
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest"},
        "subtype": [{"system": "http://hl7.org/fhir/restful-interaction", "code": interaction}],
        "action": action,
        "recorded": instant(entry.at),
        "outcome": "0",
        "agent": [agent],
        "source": {"observer": {"display": "brygga"}},
        "entity": [
            {
                "what": {"reference": f"Patient/{patient_id}"},
                "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1"},
                "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1"},
                "description": str(entry.get_action_display()),
            }
        ],
    }
