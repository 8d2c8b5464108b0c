"""A recorded consent (consent.models.Consent, OSL 12 kap. 2 §) as FHIR Consent in the shape of IHE Privacy
Consent on FHIR's basic consent: a permit to disclose the named categories to the named units for care
coordination, with what it must not cover as nested deny provisions. Read-only here: consents are recorded
and withdrawn in brygga (`/sip/samtycke/<person>/`)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from brygga.consent.models import Consent
from brygga.consent.rules import CATEGORIES
from brygga.fhir import systems
from brygga.fhir.mapping import instant, unit_reference

CATEGORY = f"{systems.CANONICAL}/CodeSystem/disclosure-category"
RECIPIENT = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]
}


def _codes(categories: list[str]) -> list[dict[str, Any]]:
    return [
        {"coding": [{"system": CATEGORY, "code": c}], "text": str(CATEGORIES.get(c, c))} for c in categories
    ]


def consent(record: Consent, parties: list[Any], excluded: list[Any]) -> dict[str, Any]:
    expired = record.valid_until is not None and record.valid_until < timezone.localdate()
    period: dict[str, Any] = {"start": instant(record.given_at)}
    if record.withdrawn_at:
        period["end"] = instant(record.withdrawn_at)
    elif record.valid_until:
        period["end"] = record.valid_until.isoformat()
    provision: dict[str, Any] = {
        "type": "permit",
        "period": period,
        "purpose": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT"}],
    }
    if parties:
        provision["actor"] = [{"role": RECIPIENT, "reference": unit_reference(u)} for u in parties]
    if record.categories:
        provision["code"] = _codes(list(record.categories))
    denials: list[dict[str, Any]] = []
    if excluded:
        denials.append(
            {"type": "deny", "actor": [{"role": RECIPIENT, "reference": unit_reference(u)} for u in excluded]}
        )
    if record.excluded_categories:
        denials.append({"type": "deny", "code": _codes(list(record.excluded_categories))})
    if denials:
        provision["provision"] = denials
    performer: dict[str, Any] = {"reference": f"Patient/{record.person_id}"}
    if record.given_by == Consent.GivenBy.REPRESENTATIVE:
        performer = {"display": f"{record.representative_name} ({record.representative_relation})".strip()}
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "id": str(record.pk),
        "status": "inactive" if record.withdrawn_at or expired else "active",
        "scope": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}
            ]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{record.person_id}"},
        "dateTime": instant(record.given_at),
        "performer": [performer],
        "organization": [unit_reference(record.recorded_unit)],
        "policyRule": {"coding": [{"system": systems.ACT_CODE, "code": "OPTIN"}], "text": "OSL 12 kap. 2 §"},
        "provision": provision,
    }
    if record.purpose:
        resource["extension"] = [
            {
                "url": f"{systems.CANONICAL}/StructureDefinition/consent-purpose-text",
                "valueString": record.purpose,
            }
        ]
    return resource
