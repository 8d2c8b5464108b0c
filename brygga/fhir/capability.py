"""The CapabilityStatement: what /fhir/r4/ really does, no more (the tests compare it with the routes)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from brygga.fhir import systems


def _search(name: str, kind: str, doc: str) -> dict[str, Any]:
    return {"name": name, "type": kind, "documentation": doc}


def _resource(
    kind: str, interactions: list[str], params: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    return {
        "type": kind,
        "interaction": [{"code": i} for i in interactions],
        **({"searchParam": params} if params else {}),
        **extra,
    }


RESOURCES: list[dict[str, Any]] = [
    _resource(
        "Patient",
        ["read", "search-type"],
        [
            _search("identifier", "token", "Personnummer, samordningsnummer eller reservnummer"),
            _search("_id", "token", "Resursens id"),
        ],
        documentation="Bara personer som den egna enheten har medverkan för; varje träff loggas.",
    ),
    _resource(
        "Encounter",
        ["read", "search-type", "create", "update"],
        [
            _search("identifier", "token", "Journalsystemets id för vårdtillfället"),
            _search("patient", "reference", "Patient/<id>"),
            _search("status", "token", "in-progress, onleave, finished, cancelled"),
            _search("_id", "token", "Resursens id"),
        ],
        versioning="versioned-update",
        readHistory=False,
        updateCreate=False,
        conditionalCreate=True,
        conditionalUpdate=False,
        conditionalDelete="not-supported",
        documentation=(
            "Skapas av avdelningens journalsystem (villkorligt med If-None-Exist: identifier=…); "
            "uppdateras med If-Match (412 vid gammal version): beräknat utskrivningsdatum med orsak, "
            "permission, utskrivning, "
            "omflyttning. Samma regler och händelser som i brygga."
        ),
    ),
    _resource(
        "Task",
        ["read", "search-type", "create", "update", "patch"],
        [
            _search("owner", "reference", "Organization/<id> eller HSA-id"),
            _search("status", "token", "requested, received, completed, cancelled, rejected"),
            _search("code", "token", "inskrivningsmeddelande, utskrivningsklar, sip-kallelse"),
            _search("encounter", "reference", "Encounter/<id>"),
            _search("patient", "reference", "Patient/<id>"),
        ],
        documentation=(
            "Inskrivningsmeddelande, utskrivningsklar och kallelse till SIP. Mottagande enhet kvitterar "
            "genom "
            "att sätta sin Task till received; läkaren återtar utskrivningsklar genom status cancelled."
        ),
    ),
    _resource(
        "Organization",
        ["read", "search-type"],
        [_search("identifier", "token", "HSA-id"), _search("name", "string", "Namn")],
    ),
    _resource(
        "PractitionerRole",
        ["read", "search-type"],
        [
            _search("organization", "reference", "Organization/<id> eller enhetens HSA-id"),
            _search("practitioner.identifier", "token", "Personens HSA-id"),
            _search("identifier", "token", "Medarbetaruppdragets HSA-id"),
        ],
        documentation=(
            "Enhetens funktion (unit-<id>: telefon, funktionsbrevlåda, öppettider), dess namngivna "
            "kontaktroller (contact-<id>-<n>) och personal med HSA-id (member-<id>)."
        ),
    ),
    _resource(
        "Appointment",
        ["read", "search-type"],
        [
            _search("patient", "reference", "Patient/<id>"),
            _search("actor", "reference", "PractitionerRole/unit-<id>, Organization/<id> eller HSA-id"),
            _search("supporting-info", "reference", "Encounter/<id> (även encounter=)"),
            _search("_id", "token", "Resursens id"),
        ],
        documentation=(
            "Vårdplaneringsmöten i ärenden som enheten deltar i. Videorum (länk, PIN, inringning) bara "
            "för inbjudna enheter, som på ärendesidan."
        ),
    ),
    _resource(
        "Communication",
        ["read", "search-type", "create"],
        [_search("encounter", "reference", "Encounter/<id>: vårdtillfällets meddelanden")],
        documentation=(
            "Meddelanden i vårdtillfällets trådar: kategori, ämne (topic), svar (inResponseTo), bilagor. "
            "Bara meddelanden som enheten får läsa (R-SEK-2); rättslig grund per mottagare vid sändning."
        ),
    ),
    _resource(
        "Consent",
        ["search-type"],
        [_search("patient", "reference", "Patient/<id>")],
        documentation="Personens registrerade samtycken (IHE PCF-form); bara för enheter med medverkan.",
    ),
    _resource(
        "AuditEvent",
        ["search-type"],
        [
            _search("patient", "reference", "Patient/<id>, eller patient:identifier=<system>|<personnummer>"),
        ],
        documentation="Personens loggutdrag (R-LOG-3) enligt IHE BALP; kräver loggranskande roll.",
    ),
    _resource(
        "CarePlan",
        ["read"],
        [],
        documentation=(
            "SIP:en som CarePlan med sitt CareTeam (contained); bara för enheter som deltar i SIP:en."
        ),
    ),
    _resource(
        "DocumentReference",
        ["read", "search-type"],
        [
            _search("patient", "reference", "Patient/<id> (eller subject=)"),
            _search("status", "token", "current, superseded"),
        ],
        documentation=(
            "Undertecknade dokument (varje version; SIP som fastställd plan) och bilagor till meddelanden. "
            "Filen är en Binary; varje underskrift en Provenance. Bara för enheter med medverkan; loggas."
        ),
    ),
    _resource(
        "Binary",
        ["read"],
        [],
        documentation="Dokumentets fil: som Binary (JSON) eller, med Accept: application/pdf, filen själv.",
    ),
    _resource(
        "Provenance",
        ["read", "search-type"],
        [_search("target", "reference", "DocumentReference/signed-<id>")],
        documentation=(
            "En underskrift: undertecknaren med HSA-id för enheten, tidpunkt och underskriftens CMS (PAdES)."
        ),
    ),
    _resource(
        "Subscription",
        ["read", "search-type", "create", "delete"],
        [],
        documentation="R4B-backport av ämnesbaserade prenumerationer; rest-hook; $status per prenumeration.",
        operation=[
            {
                "name": "status",
                "definition": "http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-status",
            }
        ],
    ),
    _resource("SubscriptionTopic", ["read", "search-type"], []),
]


def capability_statement(base: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "id": "brygga",
        "url": f"{systems.CANONICAL}/CapabilityStatement/brygga",
        "name": "Brygga",
        "title": "brygga FHIR R4",
        "status": "active",
        "date": settings.BRYGGA_FHIR_CAPABILITY_DATE,
        "publisher": "brygga",
        "kind": "instance",
        "implementation": {
            "description": "brygga — samordnad vård och omsorg i Västra Götaland",
            "url": base,
        },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "OAuth",
                                }
                            ],
                            "text": "Bearer-nyckel (API-nyckel bunden till en enhet och roll)",
                        }
                    ],
                    "description": "Authorization: Bearer bry_… — samma nycklar som /api/v1/.",
                },
                "resource": RESOURCES,
            }
        ],
    }
