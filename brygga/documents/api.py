"""API for attachments, signed documents, signature checks, extracts and the backup routine. The same
services as the web pages: same checks, same access log, errors naming the field and the rule."""

from __future__ import annotations

import datetime as dt

from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from brygga.accounts.context import AuthedRequest
from brygga.core.errors import DomainError
from brygga.documents import attachments as attachment_services
from brygga.documents import backup, extracts, reauth, signed
from brygga.documents.models import Attachment, DocumentVersion, ExtractRequest, Signature
from brygga.documents.signing import VerificationReport, verify_pdf

router = Router(tags=["Dokument, bilagor och signering"])


class AttachmentOut(Schema):
    id: int
    person_id: int
    owner_type: str
    owner_id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    scan: str
    unit: str
    created_at: dt.datetime


def _attachment(a: Attachment) -> dict[str, object]:
    return {
        "id": a.pk,
        "person_id": a.person_id,
        "owner_type": a.owner_type,
        "owner_id": a.owner_id,
        "filename": a.filename,
        "content_type": a.content_type,
        "size": a.size,
        "sha256": a.sha256,
        "scan": a.scan,
        "unit": a.unit.name,
        "created_at": a.created_at,
    }


class SignatureOut(Schema):
    signer: str
    unit: str
    signed_at: dt.datetime
    backend: str


class VersionOut(Schema):
    id: int
    document_id: int
    number: int
    title: str
    body: str
    sha256: str
    frozen: bool
    signatures: list[SignatureOut]


def _signature(s: Signature) -> dict[str, object]:
    return {"signer": s.signer_label, "unit": s.unit_label, "signed_at": s.signed_at, "backend": s.backend}


def _version(v: DocumentVersion) -> dict[str, object]:
    return {
        "id": v.pk,
        "document_id": v.document_id,
        "number": v.number,
        "title": v.title,
        "body": v.body,
        "sha256": v.sha256,
        "frozen": v.frozen,
        "signatures": [_signature(s) for s in v.signatures.all()],
    }


class CheckOut(Schema):
    field_name: str
    signer_name: str
    signer_identifier: str
    signer_unit: str
    signed_at: dt.datetime | None
    intact: bool
    trusted: bool
    covers_document: bool
    valid: bool
    problem: str


class VerificationOut(Schema):
    valid: bool
    problem: str
    signatures: list[CheckOut]


def _report(report: VerificationReport) -> dict[str, object]:
    return {
        "valid": report.valid,
        "problem": str(report.problem),
        "signatures": [{**s.__dict__, "problem": str(s.problem)} for s in report.signatures],
    }


class DocumentIn(Schema):
    person_id: int
    owner_type: str = "person"
    owner_id: str | None = None
    title: str
    body: str


class RevisionIn(Schema):
    title: str
    body: str


def _pdf(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@router.post(
    "/attachments", response={201: AttachmentOut}, summary="Bifoga en fil (typ avgörs av innehållet)"
)
def add_attachment(
    request: AuthedRequest,
    person_id: Form[int],
    file: File[UploadedFile],
    owner_type: Form[str] = "person",
    owner_id: Form[str] = "",
) -> Status:
    attachment = attachment_services.add_attachment(
        request.actor,
        person_id,
        owner_type,
        owner_id or str(person_id),
        file,
    )
    return Status(201, _attachment(attachment))


@router.get("/attachments/{attachment_id}", response=AttachmentOut, summary="Bilagans uppgifter (loggas)")
def read_attachment(request: AuthedRequest, attachment_id: int) -> dict[str, object]:
    return _attachment(attachment_services.open_attachment(request.actor, attachment_id))


@router.get("/attachments/{attachment_id}/content", summary="Hämta bilagan (loggas)")
def attachment_content(request: AuthedRequest, attachment_id: int) -> FileResponse:
    attachment = attachment_services.open_attachment(request.actor, attachment_id)
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )


@router.get("/persons/{person_id}/attachments", response=list[AttachmentOut], summary="En persons bilagor")
def person_attachments(
    request: AuthedRequest, person_id: int, owner_type: str | None = None, owner_id: str | None = None
) -> list[dict[str, object]]:
    _person, qs = attachment_services.attachments_for(request.actor, person_id, owner_type, owner_id)
    return [_attachment(a) for a in qs]


@router.post("/documents", response={201: VersionOut}, summary="Skapa ett dokument att underteckna")
def create_document(request: AuthedRequest, payload: DocumentIn) -> Status:
    version = signed.create_document(
        request.actor,
        payload.person_id,
        payload.owner_type,
        payload.owner_id or str(payload.person_id),
        payload.title,
        payload.body,
    )
    return Status(201, _version(version))


@router.get("/documents/{document_id}", response=list[VersionOut], summary="Dokumentets versioner (loggas)")
def read_document(request: AuthedRequest, document_id: int) -> list[dict[str, object]]:
    document = signed.open_document(request.actor, document_id)
    return [_version(v) for v in document.versions.order_by("number").prefetch_related("signatures")]


@router.post(
    "/documents/{document_id}/versions", response={201: VersionOut}, summary="Ändra: skapar en ny version"
)
def revise_document(request: AuthedRequest, document_id: int, payload: RevisionIn) -> Status:
    version = signed.revise_document(request.actor, document_id, payload.title, payload.body)
    return Status(201, _version(version))


class SignConfirmationIn(Schema):
    """The signer's fresh authentication (DOK-SIG-9): the password again and, if the account has one, a TOTP
    code. Integrating systems cannot sign for a person."""

    password: str = ""
    totp: str = ""


@router.post(
    "/versions/{version_id}/signatures", response={201: SignatureOut}, summary="Underteckna (PAdES B-LTA)"
)
def sign_version(
    request: AuthedRequest, version_id: int, payload: SignConfirmationIn | None = None
) -> Status:
    actor = request.actor
    confirmation = None
    if payload is not None and payload.password:
        confirmation = reauth.confirm_with_password(actor.user, payload.password, payload.totp, request)
    return Status(201, _signature(signed.sign_version(actor, version_id, confirmation=confirmation)))


@router.get(
    "/versions/{version_id}/verification", response=VerificationOut, summary="Kontrollera underskrifterna"
)
def verify_version(request: AuthedRequest, version_id: int) -> dict[str, object]:
    _version_obj, report = signed.verify_version(request.actor, version_id)
    return _report(report)


@router.get("/versions/{version_id}/pdf", summary="Hämta versionens PDF med underskrifter (loggas)")
def version_pdf(request: AuthedRequest, version_id: int) -> HttpResponse:
    version = signed.open_version(request.actor, version_id)
    with version.pdf.open("rb") as handle:
        return _pdf(handle.read(), f"dokument-{version.document_id}-v{version.number}.pdf")


@router.post("/verify", response=VerificationOut, summary="Kontrollera underskrifterna i en mottagen PDF")
def verify_upload(request: HttpRequest, file: File[UploadedFile]) -> dict[str, object]:
    if file.size and file.size > 50 * 1024 * 1024:
        raise DomainError.single("file", "DOK-BIL-2", "Filen är för stor.")
    return _report(verify_pdf(file.read()))


class ExtractRequestIn(Schema):
    identifier: str
    kind: str
    received_on: dt.date


class ExtractRequestOut(Schema):
    id: int
    kind: str
    received_on: dt.date
    due_on: dt.date
    deadline: dt.date
    delivered_at: dt.datetime | None
    overdue: bool


def _extract_request(r: ExtractRequest) -> dict[str, object]:
    return {
        "id": r.pk,
        "kind": r.kind,
        "received_on": r.received_on,
        "due_on": r.due_on,
        "deadline": r.deadline,
        "delivered_at": r.delivered_at,
        "overdue": r.is_overdue(),
    }


@router.post(
    "/extract-requests", response={201: ExtractRequestOut}, summary="Registrera en begäran om utdrag"
)
def register_extract_request(request: AuthedRequest, payload: ExtractRequestIn) -> Status:
    item = extracts.register_request(request.actor, payload.identifier, payload.kind, payload.received_on)
    return Status(201, _extract_request(item))


@router.get("/extract-requests", response=list[ExtractRequestOut], summary="Begäranden om utdrag med frister")
def list_extract_requests(request: AuthedRequest) -> list[dict[str, object]]:
    return [_extract_request(r) for r in extracts.scoped_requests(request.actor)[:500]]


@router.post("/extract-requests/{request_id}/extract", summary="Ta fram utdraget som PDF (loggas)")
def produce_extract(request: AuthedRequest, request_id: int) -> HttpResponse:
    item, data = extracts.produce_extract(request.actor, request_id)
    return _pdf(data, f"{item.kind}utdrag-{item.pk}.pdf")


class SnapshotOut(Schema):
    id: int
    created_at: dt.datetime
    trigger: str
    persons: int
    sha256: str


@router.get("/backups", response=list[SnapshotOut], summary="Enhetens reservutdrag")
def list_backups(request: AuthedRequest) -> list[dict[str, object]]:
    return [
        {
            "id": s.pk,
            "created_at": s.created_at,
            "trigger": s.trigger,
            "persons": len(s.person_ids),
            "sha256": s.sha256,
        }
        for s in backup.unit_snapshots(request.actor)[:20]
    ]


@router.get("/backups/{snapshot_id}/content", summary="Hämta ett krypterat reservutdrag (loggas per person)")
def backup_content(request: AuthedRequest, snapshot_id: int) -> HttpResponse:
    snapshot = backup.open_snapshot(request.actor, snapshot_id)
    with snapshot.file.open("rb") as handle:
        return _pdf(handle.read(), f"reservutdrag-{snapshot.pk}.pdf")


class PaperRecordIn(Schema):
    person_id: int
    occurred_at: dt.datetime
    summary: str
    snapshot_id: int | None = None


class PaperRecordOut(Schema):
    id: int
    occurred_at: dt.datetime
    registered_at: dt.datetime
    summary: str
    registered_afterwards: bool = True


@router.post(
    "/paper-records", response={201: PaperRecordOut}, summary="Registrera i efterhand från pappersrutin"
)
def paper_record(request: AuthedRequest, payload: PaperRecordIn) -> Status:
    record = backup.register_paper_record(
        request.actor,
        payload.person_id,
        payload.occurred_at,
        payload.summary,
        payload.snapshot_id,
    )
    out = {
        "id": record.pk,
        "occurred_at": record.occurred_at,
        "registered_at": record.registered_at,
        "summary": record.summary,
    }
    return Status(201, out)
