"""Signed documents and attachments as DocumentReference, their files as Binary, each signature as Provenance
(docs/fhir.md "DocumentReference, Binary, Provenance").

Ids say what a resource is built from (brygga stores nothing twice, ADR 0600):

- ``DocumentReference/signed-<version>``: one version of a signed document (``documents.DocumentVersion``; a
  SIP plan is one document with a version per established plan). The latest version is ``current``, earlier
  ones ``superseded`` and each ``replaces`` the one before. ``docStatus`` is ``final`` once signed.
- ``DocumentReference/attachment-<id>``: a file attached to a message or filed on the person.
- ``Binary/<same id>``: the file (the signed PDF with every signature so far; the attachment as uploaded).
- ``Provenance/signature-<id>``: one signature, ``target`` the DocumentReference, ``agent`` the signer
  (HSA-id) on behalf of the unit, ``signature.data`` the signature's CMS SignedData as embedded in the PDF.

Reading goes through the documents app's checked paths (``signed.open_version``, ``signed.person_documents``,
``attachments.open_attachment``, ``attachments.attachments_for``): the unit must be involved with the person,
a message's attachment needs the reader check of the message (R-SEK-2), and every read is access-logged."""

from __future__ import annotations

import base64
import io
from typing import Any

from django.conf import settings
from django.db.models import prefetch_related_objects

from brygga.accounts.context import Actor
from brygga.core.errors import NotFound
from brygga.documents import attachments as attachment_services
from brygga.documents import signed
from brygga.documents.models import Attachment, Document, DocumentVersion, Signature
from brygga.documents.owners import owner_label
from brygga.fhir import systems
from brygga.fhir.mapping import instant, unit_reference

SIGNED = "signed-"
ATTACHMENT = "attachment-"
SIGNATURE = "signature-"
DOCUMENT_TYPE = f"{systems.CANONICAL}/CodeSystem/document-owner"
DOCUMENT_ID = f"{systems.CANONICAL}/NamingSystem/document"
DOCUMENT_VERSION_ID = f"{systems.CANONICAL}/NamingSystem/document-version"
# ASTM E1762-95 signature types (the R4 value set for Signature.type): a signer of a plan signs as its author.
SIGNATURE_TYPE = {
    "system": "urn:iso-astm:E1762-95:2013",
    "code": "1.2.840.10065.1.12.1.1",
    "display": "Author's Signature",
}
PROVENANCE_AGENT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
# The signature's bytes: a CMS SignedData (PAdES), detached, over the byte range of its PDF revision.
SIGNATURE_FORMAT = "application/pkcs7-signature"


def _base() -> str:
    return settings.BRYGGA_BASE_URL.rstrip("/")


def parse_id(pk: str, *prefixes: str) -> tuple[str, int]:
    for prefix in prefixes:
        rest = pk.removeprefix(prefix)
        if rest != pk and rest.isdecimal():
            return prefix, int(rest)
    raise NotFound


def _related(owner_type: str, owner_id: str) -> list[dict[str, Any]]:
    """What the document belongs to, where FHIR has a resource for it."""
    if not owner_id.isdecimal():
        return []
    if owner_type in ("sip", "sip_plan"):
        return [{"reference": f"CarePlan/{owner_id}"}]
    if owner_type == "message":
        return [{"reference": f"Communication/{owner_id}"}]
    if owner_type == "case":
        return [{"reference": f"Encounter/{owner_id}"}]
    return []


def _type(owner_type: str) -> dict[str, Any]:
    return {"coding": [{"system": DOCUMENT_TYPE, "code": owner_type}], "text": owner_label(owner_type)}


def signed_reference(
    version: DocumentVersion,
    document: Document,
    latest: int,
    signatures: list[Signature],
    previous_pk: int | None,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": f"{SIGNED}{version.pk}",
        "identifier": [
            {"system": DOCUMENT_ID, "value": str(document.pk)},
            {"system": DOCUMENT_VERSION_ID, "value": f"{document.pk}/{version.number}"},
        ],
        "status": "current" if version.number == latest else "superseded",
        "docStatus": "final" if signatures else "preliminary",
        "type": _type(document.owner_type),
        "subject": {"reference": f"Patient/{document.person_id}"},
        "date": instant(version.created_at),
        "author": [unit_reference(document.unit)],
        "custodian": unit_reference(document.unit),
        "description": version.title,
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "url": f"{_base()}/fhir/r4/Binary/{SIGNED}{version.pk}",
                    "title": version.title,
                    "creation": instant(version.created_at),
                }
            }
        ],
    }
    if signatures:
        resource["authenticator"] = unit_reference(signatures[0].unit)
    if previous_pk is not None:
        resource["relatesTo"] = [
            {"code": "replaces", "target": {"reference": f"DocumentReference/{SIGNED}{previous_pk}"}}
        ]
    related = _related(document.owner_type, document.owner_id)
    if related:
        resource["context"] = {"related": related}
    return resource


def attachment_reference(attachment: Attachment) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": f"{ATTACHMENT}{attachment.pk}",
        "status": "current",
        "type": _type(attachment.owner_type),
        "subject": {"reference": f"Patient/{attachment.person_id}"},
        "date": instant(attachment.created_at),
        "author": [unit_reference(attachment.unit)],
        "description": attachment.filename,
        "content": [
            {
                "attachment": {
                    "contentType": attachment.content_type,
                    "url": f"{_base()}/fhir/r4/Binary/{ATTACHMENT}{attachment.pk}",
                    "size": attachment.size,
                    "title": attachment.filename,
                    "creation": instant(attachment.created_at),
                }
            }
        ],
    }
    related = _related(attachment.owner_type, attachment.owner_id)
    if related:
        resource["context"] = {"related": related}
    return resource


def _signed_version_resource(version: DocumentVersion) -> dict[str, Any]:
    document = Document.objects.select_related("unit").get(pk=version.document_id)
    latest = document.versions.order_by("-number").values_list("number", flat=True).first() or version.number
    signatures = list(version.signatures.select_related("unit"))
    previous = (
        document.versions.filter(number=version.number - 1).values_list("pk", flat=True).first()
        if version.number > 1
        else None
    )
    return signed_reference(version, document, latest, signatures, previous)


def read_reference(actor: Actor, pk: str) -> dict[str, Any]:
    """One DocumentReference through the checked path (404 for another unit's, logged)."""
    kind, number = parse_id(pk, SIGNED, ATTACHMENT)
    if kind == SIGNED:
        return _signed_version_resource(signed.open_version(actor, number))
    attachment = attachment_services.open_attachment(actor, number)
    return attachment_reference(Attachment.objects.select_related("unit").get(pk=attachment.pk))


def person_references(actor: Actor, person_id: str) -> list[dict[str, Any]]:
    """Every version of the person's signed documents and the attachments the unit may read (both listings
    checked and logged by the documents app)."""
    _person, documents = signed.person_documents(actor, person_id)
    prefetch_related_objects(documents, "versions__signatures__unit")  # one query, not one per version
    resources: list[dict[str, Any]] = []
    for document in documents:
        versions = sorted(document.versions.all(), key=lambda v: v.number)  # prefetched with signatures
        latest = versions[-1].number if versions else 0
        previous: int | None = None
        for version in versions:
            resources.append(
                signed_reference(version, document, latest, list(version.signatures.all()), previous)
            )
            previous = version.pk
    _person, attachments = attachment_services.attachments_for(actor, person_id)
    resources.extend(attachment_reference(a) for a in attachments)
    return resources


# --- Binary -------------------------------------------------------------------------------------------------


def open_binary(actor: Actor, pk: str) -> tuple[str, bytes]:
    """The file of a DocumentReference, through the same checked path as the reference (logged)."""
    kind, number = parse_id(pk, SIGNED, ATTACHMENT)
    if kind == SIGNED:
        version = signed.open_version(actor, number)
        with version.pdf.open("rb") as handle:
            return "application/pdf", handle.read()
    attachment = attachment_services.open_attachment(actor, number)
    with attachment.file.open("rb") as handle:
        return attachment.content_type, handle.read()


def binary(pk: str, content_type: str, data: bytes, person_id: int | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Binary",
        "id": pk,
        "contentType": content_type,
        "data": base64.b64encode(data).decode("ascii"),
    }
    if person_id is not None:
        resource["securityContext"] = {"reference": f"Patient/{person_id}"}
    return resource


# --- Provenance ---------------------------------------------------------------------------------------------


def _signature_bytes(data: bytes) -> dict[str, bytes]:
    """The CMS SignedData of each signature field in the PDF (pyhanko reads the embedded signatures)."""
    from asn1crypto import cms
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        return {
            emb.field_name: cms.ContentInfo(
                {"content_type": "signed_data", "content": emb.signed_data}
            ).dump()
            for emb in reader.embedded_signatures
        }
    except Exception:  # noqa: BLE001 — a damaged file has no readable signatures; the reference still says who
        return {}


def _who(signature: Signature) -> dict[str, Any]:
    hsa_id = signature.signer.hsa_id  # type: ignore[attr-defined]
    who: dict[str, Any] = {"display": signature.signer_label}
    if hsa_id:
        who["identifier"] = {"system": systems.HSA_ID, "value": hsa_id}
    return who


def provenance(signature: Signature, version: DocumentVersion, cms: bytes | None) -> dict[str, Any]:
    when = instant(signature.signed_at)
    who = _who(signature)
    sig: dict[str, Any] = {
        "type": [SIGNATURE_TYPE],
        "when": when,
        "who": who,
        "onBehalfOf": unit_reference(signature.unit),
        "targetFormat": "application/pdf",
        "sigFormat": SIGNATURE_FORMAT,
    }
    if cms:
        sig["data"] = base64.b64encode(cms).decode("ascii")
    return {
        "resourceType": "Provenance",
        "id": f"{SIGNATURE}{signature.pk}",
        "target": [{"reference": f"DocumentReference/{SIGNED}{version.pk}"}],
        "recorded": when,
        "activity": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                    "code": "AUTHEN",
                    "display": "authenticator",
                }
            ]
        },
        "agent": [
            {
                "type": {"coding": [{"system": PROVENANCE_AGENT_TYPE, "code": "verifier"}]},
                "role": [{"text": signature.role}] if signature.role else [],
                "who": who,
                "onBehalfOf": unit_reference(signature.unit),
            }
        ],
        "signature": [sig],
    }


def version_provenances(version: DocumentVersion) -> list[dict[str, Any]]:
    """Every signature of a version opened through the checked path, with its bytes from the signed PDF."""
    signatures = list(version.signatures.select_related("unit", "signer"))
    if not signatures:
        return []
    with version.pdf.open("rb") as handle:
        cms = _signature_bytes(handle.read())
    return [provenance(s, version, cms.get(s.field_name)) for s in signatures]


def read_provenance(actor: Actor, pk: str) -> dict[str, Any]:
    _kind, number = parse_id(pk, SIGNATURE)
    signature = Signature.objects.filter(pk=number).values_list("version_id", flat=True).first()
    if signature is None:
        raise NotFound
    version = signed.open_version(actor, signature)
    for resource in version_provenances(version):
        if resource["id"] == pk:
            return resource
    raise NotFound


def target_provenances(actor: Actor, target: str) -> list[dict[str, Any]]:
    """``Provenance?target=DocumentReference/signed-<version>``."""
    ref = target.rpartition("/")[2]
    kind, number = parse_id(ref, SIGNED, ATTACHMENT)
    if kind == ATTACHMENT:
        attachment_services.open_attachment(actor, number)  # checked and logged; attachments are not signed
        return []
    return version_provenances(signed.open_version(actor, number))
