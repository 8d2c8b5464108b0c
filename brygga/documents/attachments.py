"""Attachments: checked, hashed, scanned and stored, then read only through the access-checked path.

Refusals (each names its rule): DOK-BIL-1 a type not on the allow-list (detected from the content),
DOK-BIL-2 a file over the size limit, DOK-BIL-3 the owner's attachments together over the message limit,
DOK-BIL-4 the scanner found malware, DOK-BIL-5 the scanner did not answer in time (or, outside debug, none is
configured: nothing is stored unscanned)."""

from __future__ import annotations

import hashlib
import os
import secrets
import unicodedata
from collections import defaultdict
from collections.abc import Iterator

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from brygga.access.models import AccessLogEntry
from brygga.access.services import open_person
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError, NotFound
from brygga.documents.detection import HEAD_BYTES, detect
from brygga.documents.models import Attachment
from brygga.documents.owners import check_owner, readable_owners
from brygga.documents.scanning import ScannerUnavailable, scan_required, scan_stream, scanner_configured

Action = AccessLogEntry.Action


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB"


def clean_filename(name: str, extension: str) -> str:
    """The user's file name without any path, control characters or a misleading extension."""
    name = os.path.basename((name or "").replace("\\", "/"))
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C")
    stem = name.rsplit(".", 1)[0].strip(" .") or "bilaga"
    return f"{stem[:200]}.{extension}"


def _chunks(upload: File) -> Iterator[bytes]:
    upload.seek(0)
    yield from upload.chunks()


def add_attachment(
    actor: Actor, person_id: int | str, owner_type: str, owner_id: str, upload: File
) -> Attachment:
    """Attach an uploaded file to an owner concerning the person. Nothing is stored unless all checks pass."""
    actor.require(Perm.MESSAGE_SEND)
    with transaction.atomic():
        person = open_person(actor, person_id, f"{owner_type}:{owner_id}/bilaga", action=Action.CREATE)
        check_owner(person, owner_type, str(owner_id))
        size = upload.size or 0
        limit = settings.BRYGGA_ATTACHMENT_MAX_BYTES
        if size > limit:
            raise DomainError.single(
                "file",
                "DOK-BIL-2",
                _("Filen är större än tillåtna %(limit)s.") % {"limit": _megabytes(limit)},
            )
        if size == 0:
            raise DomainError.single("file", "DOK-BIL-1", _("Filen är tom."))
        upload.seek(0)
        kind = detect(upload.read(HEAD_BYTES))
        if kind is None:
            raise DomainError.single(
                "file",
                "DOK-BIL-1",
                _(
                    "Filtypen är inte tillåten. Tillåtna är PDF, PNG, JPEG, GIF, TIFF och BMP "
                    "(kontrolleras på innehållet)."
                ),
            )
        total_limit = settings.BRYGGA_ATTACHMENT_MAX_TOTAL_BYTES
        already = (
            Attachment.objects.filter(owner_type=owner_type, owner_id=str(owner_id)).aggregate(s=Sum("size"))[
                "s"
            ]
            or 0
        )
        if already + size > total_limit:
            raise DomainError.single(
                "file",
                "DOK-BIL-3",
                _("Bilagorna blir tillsammans större än tillåtna %(limit)s per meddelande.")
                % {"limit": _megabytes(total_limit)},
            )
        digest = hashlib.sha256()
        for chunk in _chunks(upload):
            digest.update(chunk)
        scan = Attachment.Scan.NOT_SCANNED
        if not scanner_configured() and scan_required():
            # Fail closed: outside debug nothing is stored that no scanner has said is clean (ADR 0402).
            raise DomainError.single(
                "file",
                "DOK-BIL-5",
                _("Virussökning är inte konfigurerad, så filen kan inte tas emot. Kontakta förvaltningen."),
                status=503,
            )
        if scanner_configured():
            try:
                result = scan_stream(_chunks(upload))
            except ScannerUnavailable as exc:
                raise DomainError.single(
                    "file",
                    "DOK-BIL-5",
                    _("Virussökningen svarar inte, så filen kan inte tas emot just nu. Försök igen senare."),
                    status=503,
                ) from exc
            if not result.clean:
                raise DomainError.single(
                    "file",
                    "DOK-BIL-4",
                    _("Virussökningen hittade skadlig kod (%(signature)s). Filen togs inte emot.")
                    % {"signature": result.signature},
                )
            scan = Attachment.Scan.CLEAN
        media_type, extension = kind
        attachment = Attachment(
            key=secrets.token_hex(16),
            person=person,
            owner_type=owner_type,
            owner_id=str(owner_id),
            unit=actor.unit,
            uploaded_by=actor.user,
            filename=clean_filename(getattr(upload, "name", "") or "", extension),
            content_type=media_type,
            size=size,
            sha256=digest.hexdigest(),
            scan=scan,
        )
        upload.seek(0)
        attachment.file.save(attachment.key, upload, save=False)
        try:
            attachment.save()
        except Exception:
            attachment.file.delete(save=False)
            raise
    return attachment


def open_attachment(actor: Actor, attachment_id: int | str) -> Attachment:
    """The attachment, if the actor's unit may see its person; the download is access-logged. NotFound for
    missing and for not-yours alike."""
    try:
        pk = int(attachment_id)
    except (TypeError, ValueError) as exc:
        raise NotFound from exc
    attachment = Attachment.objects.filter(pk=pk).first()
    if attachment is None:
        raise NotFound
    open_person(actor, attachment.person_id, f"bilaga:{attachment.pk}", action=Action.READ)
    if attachment.owner_id not in readable_owners(actor, attachment.owner_type, [attachment.owner_id]):
        raise NotFound  # e.g. a message the unit has no basis to read (R-SEK-2)
    return attachment


def attachments_for(
    actor: Actor,
    person_id: int | str,
    owner_type: str | None = None,
    owner_id: str | None = None,
    what: str = "bilagor",
):  # type: ignore[no-untyped-def]
    """Attachments of a person (optionally of one owner) that the actor may read, after the access check; the
    listing is logged (as ``what``)."""
    person = open_person(actor, person_id, what)
    qs = Attachment.objects.filter(person=person).select_related("unit", "uploaded_by")
    if owner_type is not None:
        qs = qs.filter(owner_type=owner_type, owner_id=str(owner_id))
    attachments = list(qs)
    owners: dict[str, list[str]] = defaultdict(list)
    for attachment in attachments:
        owners[attachment.owner_type].append(attachment.owner_id)
    readable = {kind: readable_owners(actor, kind, ids) for kind, ids in owners.items()}
    return person, [a for a in attachments if a.owner_id in readable[a.owner_type]]
