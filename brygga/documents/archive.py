"""Renewing the archive time-stamps of signed documents (PAdES B-LTA, ADR 0408).

A document time-stamp proves the document and its validation data existed while the time-stamping unit's
certificate was valid; before that certificate expires (or its algorithm weakens), a new document time-stamp
over everything — with the validation data of the previous one in the DSS — extends the proof
(pyHanko's ``update_archival_timestamp_chain``). ``renew_archive_timestamps`` does that for every signed
version whose newest document time-stamp's certificate expires within the given margin (or that has none: a
B-LT signature from before B-LTA), as a yearly job: ``manage.py renew_archive_timestamps``. The stored file is
replaced like a new signature replaces it (the earlier bytes stay inside the incremental update)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import secrets

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from brygga.documents.models import DocumentVersion
from brygga.documents.signing import installation_trust_roots, timestamper_for_installation

log = logging.getLogger(__name__)


def _needs_renewal(data: bytes, deadline: dt.datetime) -> bool:
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    stamps = list(reader.embedded_timestamp_signatures)
    if not stamps:
        return True
    newest = max(stamps, key=lambda s: s.signed_revision)
    expires = newest.signer_cert["tbs_certificate"]["validity"]["not_after"].native
    return bool(expires <= deadline)


def _renewed(data: bytes) -> bytes:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.signers import PdfTimeStamper
    from pyhanko_certvalidator import ValidationContext

    timestamper, _ocsps = timestamper_for_installation()
    context = ValidationContext(
        trust_roots=installation_trust_roots(), allow_fetching=True, revocation_mode="hard-fail"
    )
    output = io.BytesIO()
    PdfTimeStamper(timestamper).update_archival_timestamp_chain(
        PdfFileReader(io.BytesIO(data)), context, in_place=False, output=output
    )
    return output.getvalue()


def renew_archive_timestamps(within: dt.timedelta, now: dt.datetime | None = None) -> tuple[int, int]:
    """Renew what needs it; returns (renewed, failed). A failure (TSA or OCSP unreachable, a stored file that
    no longer matches its digest) is logged and leaves the version as it was; the next run tries again."""
    deadline = (now or timezone.now()) + within
    renewed = failed = 0
    ids = DocumentVersion.objects.filter(signatures__isnull=False).values_list("pk", flat=True).distinct()
    for pk in list(ids):
        with transaction.atomic():
            version = DocumentVersion.objects.select_for_update().get(pk=pk)
            with version.pdf.open("rb") as handle:
                data = handle.read()
            if hashlib.sha256(data).hexdigest() != version.sha256:
                log.warning("Document version %s no longer matches its digest: not renewed", pk)
                failed += 1
                continue
            if not _needs_renewal(data, deadline):
                continue
            try:
                stamped = _renewed(data)
            except Exception as exc:  # noqa: BLE001 — TSA/OCSP down or the chain no longer validates: retry later
                log.warning("Archive time-stamp of document version %s not renewed: %s", pk, exc)
                failed += 1
                continue
            old_name, storage = version.pdf.name, version.pdf.storage
            version.key = secrets.token_hex(16)
            version.pdf.save(version.key, ContentFile(stamped), save=False)
            version.sha256 = hashlib.sha256(stamped).hexdigest()
            version.save(update_fields=["key", "pdf", "sha256"])
            if old_name:
                transaction.on_commit(lambda s=storage, n=old_name: s.delete(n))  # type: ignore[misc]
            renewed += 1
            log.info("Archive time-stamp of document version %s renewed", pk)
    return renewed, failed
