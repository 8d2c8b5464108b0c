"""The kinds of record brygga deletes when their time is up, with their legal sources (registered in
``RetentionConfig.ready``). A record that a newer record still needs is never a candidate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from brygga.documents.models import Attachment, Document, DocumentVersion, Signature
from brygga.payment.models import Dispute, SettlementRun
from brygga.retention.rules import Candidate, Kind
from brygga.statistics.models import MonthlyProcessStat

JOURNAL = (
    "Patientdatalagen (2008:355) 3 kap. 17 §: journalhandlingar bevaras minst tio år efter att den senaste "
    "uppgiften fördes in; SoL-dokumentation enligt 12 kap. 1 § SoL (2001:453) och kommunens "
    "informationshanteringsplan."
)


def _owners_with_newer(cutoff: dt.datetime) -> set[tuple[str, str]]:
    """Owners (a message, a SIP …) with an attachment or document version written on or after the cutoff:
    everything else on them is still needed, because it belongs to a record still within its period."""

    owners = set(
        Attachment.objects.filter(created_at__gte=cutoff).values_list("owner_type", "owner_id").distinct()
    )
    owners |= set(
        DocumentVersion.objects.filter(created_at__gte=cutoff)
        .values_list("document__owner_type", "document__owner_id")
        .distinct()
    )
    return owners


def attachment_candidates(cutoff: dt.datetime) -> Iterator[Candidate]:

    needed = _owners_with_newer(cutoff)
    rows = Attachment.objects.filter(created_at__lt=cutoff).values_list(
        "pk", "person_id", "created_at", "owner_type", "owner_id"
    )
    for pk, person_id, created_at, owner_type, owner_id in rows.iterator():
        if (owner_type, owner_id) not in needed:
            yield Candidate("attachment", str(pk), person_id, created_at)


def delete_attachment(object_id: str) -> int:

    attachment = Attachment.objects.get(pk=object_id)
    name = attachment.file.name
    storage = attachment.file.storage
    attachment.delete()
    return _delete_file(storage, name)


def document_candidates(cutoff: dt.datetime) -> Iterator[Candidate]:

    needed = _owners_with_newer(cutoff)
    rows = (
        Document.objects.annotate(latest=Max("versions__created_at"))
        .filter(latest__lt=cutoff)
        .values_list("pk", "person_id", "latest", "owner_type", "owner_id")
    )
    for pk, person_id, latest, owner_type, owner_id in rows.iterator():
        if (owner_type, owner_id) not in needed:
            yield Candidate("document", str(pk), person_id, latest)


def delete_document(object_id: str) -> int:

    document = Document.objects.get(pk=object_id)
    files = 0
    for version in document.versions.all():  # type: ignore[attr-defined]
        Signature.objects.filter(version=version).delete()
        name, storage = version.pdf.name, version.pdf.storage
        version.delete()
        files += _delete_file(storage, name)
    document.delete()
    return files


def settlement_candidates(cutoff: dt.datetime) -> Iterator[Candidate]:
    """Accounting records are kept until the end of the seventh year after the calendar year they concern:
    the period runs from 31 December of the run's year. Open runs are never candidates."""

    last_year = cutoff.year - 1  # a run of year Y expires when 31 Dec Y + years is before the cutoff date
    rows = SettlementRun.objects.filter(year__lte=last_year).exclude(status=SettlementRun.Status.OPEN)
    for pk, year in rows.values_list("pk", "year").iterator():
        end = dt.datetime(year, 12, 31, 23, 59, tzinfo=dt.UTC)
        if end < cutoff:
            yield Candidate("settlement_run", str(pk), None, end)


def delete_settlement(object_id: str) -> int:

    run = SettlementRun.objects.get(pk=object_id)
    Dispute.objects.filter(line__run=run).delete()  # disputes are part of the run's accounting record
    run.delete()  # its lines cascade
    return 0


def statistics_candidates(cutoff: dt.datetime) -> Iterator[Candidate]:

    months = (
        MonthlyProcessStat.objects.filter(month__lt=cutoff.date()).values_list("month", flat=True).distinct()
    )
    for month in sorted(set(months)):
        yield Candidate(
            "statistics_summary",
            month.isoformat(),
            None,
            dt.datetime.combine(month, dt.time(), tzinfo=dt.UTC),
        )


def delete_statistics_month(object_id: str) -> int:

    MonthlyProcessStat.objects.filter(month=dt.date.fromisoformat(object_id)).delete()
    return 0


def _delete_file(storage, name: str | None) -> int:  # type: ignore[no-untyped-def]
    """Delete the file once the row's deletion has committed (a rolled-back deletion keeps its file)."""
    if name and storage.exists(name):
        transaction.on_commit(lambda: storage.delete(name))
        return 1
    return 0


def builtin_kinds() -> list[Kind]:
    return [
        Kind("attachment", _("Bilagor"), 10, JOURNAL, attachment_candidates, delete_attachment),
        Kind("document", _("Undertecknade dokument"), 10, JOURNAL, document_candidates, delete_document),
        Kind(
            "settlement_run",
            _("Betalningsunderlag (avräkningar)"),
            7,
            "Bokföringslagen (1999:1078) 7 kap. 2 §: räkenskapsinformation bevaras till och med sjunde året "
            "efter utgången av det kalenderår då räkenskapsåret avslutades.",
            settlement_candidates,
            delete_settlement,
        ),
        Kind(
            "statistics_summary",
            _("Statistiksammanställningar"),
            10,
            "Arkivlagen (1990:782) 10 § och regionens informationshanteringsplan (sammanställningar utan "
            "personuppgifter; gallras efter tio år).",
            statistics_candidates,
            delete_statistics_month,
        ),
    ]
