"""Signed documents: render to PDF, sign by one or several users, freeze, version, verify.

Refusals: DOK-SIG-1 an empty title or text, DOK-SIG-2 signing a version that is no longer the latest,
DOK-SIG-3 signing the same version twice, DOK-SIG-4 the stored file no longer matches its digest,
DOK-SIG-5 the signing service is unavailable, DOK-SIG-7 (sip.signing) a plan not yet established,
DOK-SIG-8 free-text editing of a document its owner renders, DOK-SIG-9 no fresh authentication of the
signer.
A document of a person the unit may not see is NotFound."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.access.models import AccessLogEntry
from brygga.access.services import open_person
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError, NotFound, Problem
from brygga.documents import pdf
from brygga.documents.models import Document, DocumentVersion, Signature, SignServiceRequest
from brygga.documents.owners import check_owner, owner_label
from brygga.documents.reauth import FreshAuthentication, require_fresh
from brygga.documents.signing import (
    SignerIdentity,
    SigningUnavailable,
    VerificationReport,
    get_signer,
    installation_trust_roots,
    timestamper_for_installation,
    verify_pdf,
)
from brygga.people.models import Person
from brygga.people.presenters import display_identifier, display_name

Action = AccessLogEntry.Action
log = logging.getLogger(__name__)


def _validate(title: str, body: str) -> tuple[str, str]:
    title, body = (title or "").strip(), (body or "").strip()
    problems = []
    if not title:
        problems.append(Problem("title", "DOK-SIG-1", _("Ange en rubrik.")))
    elif len(title) > 200:
        problems.append(Problem("title", "DOK-SIG-1", _("Rubriken får vara högst 200 tecken.")))
    if not body:
        problems.append(Problem("body", "DOK-SIG-1", _("Dokumentet saknar innehåll.")))
    if problems:
        raise DomainError(problems)
    return title, body


def render_version(document: Document, number: int, title: str, body: str, author: str) -> bytes:
    person = document.person
    return pdf.render(
        pdf.PdfDocument(
            title=title,
            facts=[
                (_("Personnummer"), display_identifier(person)),
                (_("Namn"), display_name(person)),
                (_("Hör till"), f"{owner_label(document.owner_type)} {document.owner_id}"),
                (_("Enhet"), document.unit.name),
                (_("Version"), str(number)),
            ],
            sections=[pdf.Section(_("Innehåll"), [p for p in body.split("\n\n") if p.strip()])],
            footer=_(
                "Dokument %(doc)s version %(number)s, upprättat av %(author)s i brygga. Underskrifterna "
                "finns i PDF-filen (PAdES) och kan kontrolleras i brygga eller i en PDF-läsare."
            )
            % {"doc": document.pk, "number": number, "author": author},
        )
    )


def _user_label(actor: Actor) -> str:
    return actor.user.get_full_name() or actor.user.username


def _new_version(
    document: Document, number: int, title: str, body: str, actor: Actor, data: bytes | None = None
) -> DocumentVersion:
    """``data`` is a PDF another app rendered (the SIP's plan for the person); else the text is rendered."""
    if data is None:
        data = render_version(document, number, title, body, _user_label(actor))
    digest = hashlib.sha256(data).hexdigest()
    version = DocumentVersion(
        key=secrets.token_hex(16),
        document=document,
        number=number,
        title=title,
        body=body,
        created_by=actor.user,
        created_at=timezone.now(),
        unsigned_sha256=digest,
        sha256=digest,
    )
    version.pdf.save(version.key, ContentFile(data), save=False)
    try:
        version.save()
    except Exception:
        version.pdf.delete(save=False)
        raise
    return version


def create_document(
    actor: Actor,
    person_id: int | str,
    owner_type: str,
    owner_id: str,
    title: str,
    body: str,
    data: bytes | None = None,
) -> DocumentVersion:
    actor.require(Perm.DOCUMENT_SIGN)
    title, body = _validate(title, body)
    with transaction.atomic():
        person = open_person(actor, person_id, f"{owner_type}:{owner_id}/dokument", action=Action.CREATE)
        check_owner(person, owner_type, str(owner_id))
        assert actor.unit is not None  # open_person refuses an actor without a unit
        document = Document.objects.create(
            person=person,
            owner_type=owner_type,
            owner_id=str(owner_id),
            unit=actor.unit,
            created_by=actor.user,
        )
        return _new_version(document, 1, title, body, actor, data=data)


# Owners whose documents are renderings the owning app makes (document_for_owner); they are never edited
# as free text here, or the next rendering would no longer follow the object it shows.
OWN_PDF_OWNERS = {"sip_plan"}


def document_for_owner(
    actor: Actor, person_id: int, owner_type: str, owner_id: str, title: str, body: str, data: bytes
) -> DocumentVersion:
    """The document of an object that renders its own PDF (a SIP version): one document per owner, one version
    per rendering with that title. Calling it again for the same title returns the same version (a retry
    never makes a second copy); a new title (the next SIP version) becomes the next document version, which
    needs its own signatures. The caller has already checked that the actor may see the owner."""
    actor.require(Perm.DOCUMENT_SIGN)
    title, body = _validate(title, body)
    with transaction.atomic():
        document = (
            Document.objects.select_for_update()
            .filter(person_id=person_id, owner_type=owner_type, owner_id=str(owner_id))
            .order_by("created_at", "id")
            .first()
        )
        if document is None:
            return create_document(actor, person_id, owner_type, str(owner_id), title, body, data=data)
        open_person(actor, person_id, f"{owner_type}:{owner_id}/dokument", action=Action.UPDATE)
        existing = document.versions.filter(title=title).order_by("-number").first()
        if existing is not None:
            return existing
        current = document.current
        return _new_version(document, current.number + 1, title, body, actor, data=data)


def _document_for(actor: Actor, document_id: int | str, what: str, action: str) -> Document:
    try:
        pk = int(document_id)
    except (TypeError, ValueError) as exc:
        raise NotFound from exc
    document = Document.objects.select_related("unit", "person").filter(pk=pk).first()
    if document is None:
        raise NotFound
    open_person(actor, document.person_id, what.format(pk=pk), action=action)
    return document


def open_document(actor: Actor, document_id: int | str) -> Document:
    """The document with its versions, if the actor's unit may see the person (logged)."""
    return _document_for(actor, document_id, "dokument:{pk}", Action.READ)


def open_version(actor: Actor, version_id: int | str) -> DocumentVersion:
    try:
        pk = int(version_id)
    except (TypeError, ValueError) as exc:
        raise NotFound from exc
    version = DocumentVersion.objects.select_related("document").filter(pk=pk).first()
    if version is None:
        raise NotFound
    open_person(actor, version.document.person_id, f"dokument:{version.document_id}/v{version.number}")
    return version


def revise_document(actor: Actor, document_id: int | str, title: str, body: str) -> DocumentVersion:
    """An edit never changes a version: it creates the next one, which needs its own signatures."""
    actor.require(Perm.DOCUMENT_SIGN)
    title, body = _validate(title, body)
    with transaction.atomic():
        document = _document_for(actor, document_id, "dokument:{pk}/ny version", Action.UPDATE)
        if document.owner_type in OWN_PDF_OWNERS:
            raise DomainError.single(
                "document",
                "DOK-SIG-8",
                _("Dokumentet ändras där det hör hemma (till exempel i SIP:en), inte som fritext här."),
            )
        Document.objects.select_for_update().filter(pk=document.pk).first()
        current = document.current
        return _new_version(document, current.number + 1, title, body, actor)


def signer_identity(actor: Actor) -> SignerIdentity:
    unit = actor.unit
    return SignerIdentity(
        name=_user_label(actor),
        # The person's HSA-id from the SITHS sign-in; without one, the unit's (the certificate's CN names the
        # person and its OU the unit, so the pair identifies the signer within the unit).
        identifier=actor.user.hsa_id or (unit.hsa_id if unit else "") or actor.user.username,
        unit_name=unit.name if unit else "",
        unit_hsa_id=unit.hsa_id if unit else "",
        organisation=unit.organisation.name if unit else "",
    )


def signer_label(actor: Actor) -> str:
    """Name and HSA-id of the signer: the person's own HSA-id (from the SITHS sign-in) when known, else the
    unit's name and HSA-id."""
    name = _user_label(actor)
    if actor.user.hsa_id:
        return f"{name}, {actor.user.hsa_id}"
    unit = actor.unit
    return f"{name}, {unit.name} ({unit.hsa_id})" if unit else name


def _lock_for_signing(actor: Actor, version_id: int | str) -> tuple[DocumentVersion, bytes, str]:
    """The latest version, locked, that this actor may sign now; its stored bytes and the next field name."""
    try:
        pk = int(version_id)
    except (TypeError, ValueError) as exc:
        raise NotFound from exc
    version = DocumentVersion.objects.select_for_update().select_related("document").filter(pk=pk).first()
    if version is None:
        raise NotFound
    document = version.document
    open_person(
        actor, document.person_id, f"dokument:{document.pk}/v{version.number}/underskrift", Action.UPDATE
    )
    if document.versions.filter(number__gt=version.number).exists():
        raise DomainError.single(
            "version", "DOK-SIG-2", _("Det finns en nyare version. Underteckna den senaste versionen.")
        )
    if version.signatures.filter(signer=actor.user).exists():
        raise DomainError.single("version", "DOK-SIG-3", _("Du har redan undertecknat den här versionen."))
    with version.pdf.open("rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != version.sha256:
        raise DomainError.single(
            "version",
            "DOK-SIG-4",
            _("Den lagrade filen stämmer inte med sin kontrollsumma och kan inte undertecknas."),
        )
    return version, data, f"Underskrift{version.signatures.count() + 1}"


def _store_signed(
    actor: Actor, version: DocumentVersion, signed: bytes, field_name: str, backend: str, label: str
) -> Signature:
    report = verify_pdf(signed)
    new = next(s for s in report.signatures if s.field_name == field_name)
    old_name = version.pdf.name
    version.key = secrets.token_hex(16)
    version.pdf.save(version.key, ContentFile(signed), save=False)
    version.sha256 = hashlib.sha256(signed).hexdigest()
    version.save(update_fields=["key", "pdf", "sha256"])
    unit = actor.unit
    assert unit is not None  # open_person refuses an actor without a unit
    signature = Signature.objects.create(
        version=version,
        signer=actor.user,
        signer_label=label[:200],
        unit=unit,
        unit_label=unit.name,
        role=actor.role or "",
        field_name=field_name,
        backend=backend,
        certificate_subject=f"{new.signer_name}, {new.signer_identifier}, {new.signer_unit}"[:300],
        certificate_serial=new.signer_identifier[:80],
        signed_at=new.signed_at or timezone.now(),
    )
    # The earlier file is superseded by the one with one more signature (the incremental update keeps it
    # byte for byte inside the new one). Delete it only once the change has committed.
    storage = version.pdf.storage
    if old_name:
        transaction.on_commit(lambda: storage.delete(old_name))
    return signature


def sign_version(
    actor: Actor, version_id: int | str, confirmation: FreshAuthentication | None = None
) -> Signature:
    """Sign the latest version as PAdES B-LTA. ``confirmation`` is the signer's fresh authentication
    (DOK-SIG-9 without it, see ``brygga.documents.reauth``). A signing service reached through the browser
    (``BRYGGA_SIGNER=inera``) signs through ``start_remote_signing`` instead."""
    actor.require(Perm.DOCUMENT_SIGN)
    require_fresh(actor.user, confirmation)
    with transaction.atomic():
        version, data, field_name = _lock_for_signing(actor, version_id)
        signer = get_signer()
        try:
            signed = signer.sign(data, signer_identity(actor), field_name, _("Undertecknat i brygga"))
        except SigningUnavailable as exc:
            raise DomainError.single("version", "DOK-SIG-5", str(exc), status=503) from exc
        return _store_signed(actor, version, signed, field_name, signer.name, signer_label(actor))


@dataclass(frozen=True)
class RemoteSigningForm:
    """What the browser posts to the signing service (the auto-submitting form)."""

    url: str
    request_id: str
    sign_request: str  # base64 of the signed dss:SignRequest: the EidSignRequest field
    binding: str = "POST/XML/1.0"


def start_remote_signing(
    actor: Actor, version_id: int | str, confirmation: FreshAuthentication | None = None
) -> RemoteSigningForm:
    """Prepare the PDF and the signed SignRequest for the signing service (ADR 0408); the browser carries it
    there. The same checks as a local signature (DOK-SIG-2/3/4/9); nothing is signed until the response."""
    from brygga.documents import signservice

    actor.require(Perm.DOCUMENT_SIGN)
    require_fresh(actor.user, confirmation)
    with transaction.atomic():
        version, data, field_name = _lock_for_signing(actor, version_id)
        try:
            config = signservice.ServiceConfig.from_settings()
        except signservice.SignServiceRefused as exc:
            raise DomainError.single("version", "DOK-SIG-5", str(exc), status=503) from exc
        # Requests never answered keep a copy of the document: they go a day after they expired.
        SignServiceRequest.objects.filter(expires_at__lt=timezone.now() - dt.timedelta(days=1)).delete()
        identity = signer_identity(actor)
        label = signer_label(actor)
        prepared = signservice.prepare_pdf(data, field_name, _("Undertecknat i brygga"), identity.name)
        now = timezone.now()
        request_id, task_id = secrets.token_hex(16), secrets.token_hex(8)
        document = version.document
        request_xml = signservice.build_request(
            config,
            prepared,
            request_id=request_id,
            sign_task_id=task_id,
            signer_name=identity.name,
            signer_hsa_id=actor.user.hsa_id,
            sign_message=_("Jag undertecknar %(title)s, version %(number)s, för %(unit)s.")
            % {"title": version.title, "number": version.number, "unit": identity.unit_name},
            now=now,
        )
        assert actor.membership is not None  # open_person refuses an actor without a unit
        SignServiceRequest.objects.create(
            request_id=request_id,
            sign_task_id=task_id,
            version=version,
            membership=actor.membership,
            signer_label=label[:200],
            field_name=field_name,
            version_sha256=version.sha256,
            prepared_pdf=prepared.pdf,
            digest=prepared.digest,
            region_start=prepared.region_start,
            region_end=prepared.region_end,
            signed_attributes=prepared.signed_attributes,
            request_xml=request_xml,
            created_at=now,
            expires_at=now + config.lifetime,
        )
        log.info("Sign request %s for document %s v%s sent", request_id, document.pk, version.number)
    return RemoteSigningForm(
        url=config.url, request_id=request_id, sign_request=base64.b64encode(request_xml).decode()
    )


def _refuse(pending: SignServiceRequest, message: str) -> None:
    SignServiceRequest.objects.filter(pk=pending.pk, state=SignServiceRequest.State.PENDING).update(
        state=SignServiceRequest.State.REFUSED, problem=message[:400], prepared_pdf=b""
    )


def finish_remote_signing(relay_state: str, encoded_response: str) -> tuple[SignServiceRequest, Signature]:
    """Complete a signature with the signing service's SignResponse (the browser posts it back, without
    brygga's session). Refused (DOK-SIG-5, nothing signed, the request spent) unless the response is signed by
    the configured service, answers this request in time and says success, and the returned signature covers
    exactly the prepared document. A request is answered once."""
    from brygga.accounts.context import Actor as ActorClass
    from brygga.documents import signservice

    pending = SignServiceRequest.objects.filter(request_id=(relay_state or "")[:64]).first()
    if pending is None:
        raise NotFound
    try:
        data = base64.b64decode(encoded_response or "", validate=True)
    except ValueError:
        data = b""
    with transaction.atomic():
        locked = (
            SignServiceRequest.objects.select_for_update()
            .select_related("membership__user", "membership__unit", "version__document")
            .get(pk=pending.pk)
        )
        if locked.state != SignServiceRequest.State.PENDING:
            raise DomainError.single(
                "version", "DOK-SIG-5", _("Den här underskriftsbegäran är redan besvarad."), status=409
            )
    version = locked.version
    now = timezone.now()
    try:
        if now >= locked.expires_at:
            raise signservice.SignServiceRefused(
                _("Underskriftsbegäran har gått ut. Börja om och underteckna igen.")
            )
        config = signservice.ServiceConfig.from_settings()
        result = signservice.parse_response(
            config,
            data,
            request_id=locked.request_id,
            request_xml=bytes(locked.request_xml),
            sign_task_id=locked.sign_task_id,
            now=now,
        )
        prepared = signservice.Prepared(
            pdf=bytes(locked.prepared_pdf),
            digest=bytes(locked.digest),
            region_start=locked.region_start,
            region_end=locked.region_end,
            signed_attributes=bytes(locked.signed_attributes),
        )
        timestamper, _ocsps = timestamper_for_installation()
        signed = signservice.complete_pdf(
            prepared,
            result,
            installation_trust_roots(),
            timestamper,
            f"{locked.field_name}Arkiv",
        )
    except (signservice.SignServiceRefused, SigningUnavailable) as exc:
        _refuse(locked, str(exc))
        raise DomainError.single("version", "DOK-SIG-5", str(exc)) from exc
    except Exception as exc:  # noqa: BLE001 — TSA/OCSP unreachable or revoked: never sign anyway
        log.warning(
            "Completing sign request %s failed: %s: %s", locked.request_id, exc.__class__.__name__, exc
        )
        message = _("Tidsstämpel eller spärrkontroll gick inte att hämta, så dokumentet undertecknades inte.")
        _refuse(locked, message)
        raise DomainError.single("version", "DOK-SIG-5", message, status=503) from exc
    actor = ActorClass.for_membership(locked.membership)
    with transaction.atomic():
        version, _data, field_name = _lock_for_signing(actor, version.pk)
        changed = version.sha256 != locked.version_sha256 or field_name != locked.field_name
        claimed = SignServiceRequest.objects.filter(
            pk=locked.pk, state=SignServiceRequest.State.PENDING
        ).update(
            state=SignServiceRequest.State.REFUSED if changed else SignServiceRequest.State.SIGNED,
            prepared_pdf=b"",  # the document's bytes are not kept beside the version once answered
        )
        signature = None
        if claimed and not changed:
            signature = _store_signed(actor, version, signed, locked.field_name, "inera", locked.signer_label)
    if not claimed:
        raise DomainError.single(
            "version", "DOK-SIG-5", _("Den här underskriftsbegäran är redan besvarad."), status=409
        )
    if signature is None:
        raise DomainError.single(
            "version",
            "DOK-SIG-5",
            _("Dokumentet har ändrats under tiden (någon annan har undertecknat). Underteckna igen."),
            status=409,
        )
    return locked, signature


def check_version(version: DocumentVersion) -> VerificationReport:
    """Verify a version already opened through the access check: its signatures and its stored digest."""
    with version.pdf.open("rb") as handle:
        data = handle.read()
    if version.signatures.exists():
        report = verify_pdf(data)
    else:
        report = VerificationReport(problem=_("Inte undertecknad."))
    if hashlib.sha256(data).hexdigest() != version.sha256:
        report.problem = _("Den lagrade filen har ändrats sedan den undertecknades.")
    return report


def verify_version(actor: Actor, version_id: int | str) -> tuple[DocumentVersion, VerificationReport]:
    """Who signed, when, and whether each signature is still valid; also checks the stored digest."""
    version = open_version(actor, version_id)
    return version, check_version(version)


def person_documents(
    actor: Actor, person_id: int | str, opened: Person | None = None
) -> tuple[Person, list[Document]]:
    """The person's documents, after the access check. ``opened``: the same person, already opened through
    ``open_person`` for the same page, so the page's one read is logged once (issue 20 item 4)."""
    if opened is not None and opened.pk == int(person_id):
        person = opened
    else:
        person = open_person(actor, person_id, "dokument")
    documents = list(
        Document.objects.filter(person=person).select_related("unit").prefetch_related("versions__signatures")
    )
    return person, documents
