"""The established plan as a signed document: the plan for the person (sip.pdf) is frozen as a version of a
document in the documents app, where the participants sign it (PAdES). A new SIP version becomes a new
document version that needs new signatures; the old one stays readable with its signatures."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from brygga.accounts.context import Actor
from brygga.core.errors import DomainError
from brygga.documents import signed
from brygga.documents.models import Document, DocumentVersion
from brygga.documents.pdf import PdfDocument
from brygga.sip import pdf, services
from brygga.sip.models import Sip

OWNER_TYPE = "sip_plan"


def _title(sip: Sip, number: int) -> str:
    # Stored data that identifies the SIP version, so not translated: the same in every UI language.
    return f"SIP {sip.pk} — planen version {number}"


def _text(document: PdfDocument) -> str:
    """The plan's words as plain text, kept beside the PDF so the version can be read and searched."""
    parts: list[str] = []
    for section in document.sections:
        lines = [p for p in section.paragraphs if p]
        lines += [" · ".join(str(cell) for cell in row) for row in section.rows]
        if lines:
            parts.append(section.heading + "\n" + "\n".join(lines))
    return "\n\n".join(parts)


def plan_document(actor: Actor, sip_id: int | str) -> DocumentVersion:
    """The document version for the SIP's established plan, created on the first call for that version.
    Only an established plan can be signed (a draft is still changing)."""
    sip = services.open_sip(actor, sip_id, what="underskrift")
    version = sip.current_version()
    if version is None:
        raise DomainError.single(
            "version", "DOK-SIG-7", _("Planen måste vara fastställd innan den kan undertecknas.")
        )
    rendered = pdf.plan_document(sip, version)
    return signed.document_for_owner(
        actor,
        sip.person_id,
        OWNER_TYPE,
        str(sip.pk),
        _title(sip, version.number),
        _text(rendered) or rendered.title,
        pdf.render_plan(sip, version),
    )


@dataclass
class PlanSignatures:
    document_id: int
    version_number: int
    covers_current: bool
    signers: int


def plan_signatures(sip: Sip) -> PlanSignatures | None:
    """What the SIP page shows about signing; the SIP has already been opened (and logged) by the caller."""
    document = (
        Document.objects.filter(owner_type=OWNER_TYPE, owner_id=str(sip.pk), person_id=sip.person_id)
        .order_by("created_at", "id")
        .first()
    )
    if document is None:
        return None
    latest = document.versions.order_by("-number").first()
    if latest is None:  # pragma: no cover - a document is created with its first version
        return None
    current = sip.current_version()
    return PlanSignatures(
        document_id=document.pk,
        version_number=latest.number,
        covers_current=current is not None and latest.title == _title(sip, current.number),
        signers=latest.signatures.count(),
    )
