"""Every identifier system, code system and extension URL brygga's FHIR interface uses, in one place.

Identifier systems follow HL7 Sweden's basprofiler (IG 1.1.0, canonical http://hl7.se/fhir/ig/base;
``input/fsh/Aliases.fsh``): personnummer and samordningsnummer as electronichealth.se URIs, the HSA-id as
``urn:oid:1.2.752.29.4.19`` (the RIV-TA ``root`` OID 1.2.752.129.2.1.4.1 is for SOAP contracts, not FHIR), the
organisation number as ``urn:oid:2.5.4.97``. VGR's reserve numbers carry VGR's reserve-id OID. Inera's Core IG
drafts also show ``https://terminology.hl7.se/sid/se-personnummer``: accepted on input, never emitted."""

from __future__ import annotations

# --- identifiers (HL7 Sweden basprofiler) -------------------------------------------------------------------
PERSONNUMMER = "http://electronichealth.se/identifier/personnummer"
SAMORDNINGSNUMMER = "http://electronichealth.se/identifier/samordningsnummer"
NATIONAL_RESERVE = "http://electronichealth.se/identifier/nationelltReservnummer"
VGR_RESERVE = "urn:oid:1.2.752.113.11.0.2.1.1.1"
HSA_ID = "urn:oid:1.2.752.29.4.19"
ORGANISATION_NUMBER = "urn:oid:2.5.4.97"
# Accepted on input only (Inera Core IG drafts).
PERSONNUMMER_ALIASES = ("https://terminology.hl7.se/sid/se-personnummer",)

PERSON_SYSTEMS = {
    "personnummer": PERSONNUMMER,
    "samordningsnummer": SAMORDNINGSNUMMER,
    "reservnummer": VGR_RESERVE,
}
ACCEPTED_PERSON_SYSTEMS = frozenset({PERSONNUMMER, SAMORDNINGSNUMMER, VGR_RESERVE, *PERSONNUMMER_ALIASES})

# The EHR's own encounter id (Case.external_id), scoped by the ward: ``<BASE>/<ward HSA-id>``.
ENCOUNTER_IDENTIFIER_BASE = "urn:brygga:encounter-id"

# --- brygga's own code systems and extensions ------------------------------------------------------------
CANONICAL = "https://brygga.vgregion.se/fhir"
TASK_CODES = f"{CANONICAL}/CodeSystem/svpl-task"
RULE_CODES = f"{CANONICAL}/CodeSystem/rule"
EXPECTED_DATE_REASON = f"{CANONICAL}/CodeSystem/expected-date-reason"
WITHDRAW_REASON_TEXT = "R-UK-2"
CASE_STATUS = f"{CANONICAL}/CodeSystem/case-status"
PLANNED_END_DATE = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Encounter.plannedEndDate"
EXPECTED_DATE_CHANGE_REASON = f"{CANONICAL}/StructureDefinition/expected-date-change-reason"
NEED_ASSESSED = f"{CANONICAL}/StructureDefinition/need-assessed"
CARE_TYPE = f"{CANONICAL}/CodeSystem/care-type"
TOPIC_BASE = f"{CANONICAL}/SubscriptionTopic"

# --- HL7 code systems -------------------------------------------------------------------------------------
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
SECURITY_LABEL = "http://hl7.se/fhir/ig/base/CodeSystem/SecurityLabel"
ISSUE_TYPE = "http://hl7.org/fhir/issue-type"


def encounter_identifier_system(ward_hsa_id: str) -> str:
    return f"{ENCOUNTER_IDENTIFIER_BASE}/{ward_hsa_id}"
