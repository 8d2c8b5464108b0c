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


# --- cases and messages (journal documents) ----------------------------------------------------------------

FINISHED_CASE = ("discharged", "died", "cancelled", "closed")


def _thread_latest(threads) -> dict[int, dt.datetime]:  # type: ignore[no-untyped-def]
    from brygga.messaging.models import Message

    return dict(
        Message.objects.filter(thread__in=threads)
        .values("thread_id")
        .annotate(latest=Max("sent_at"))
        .values_list("thread_id", "latest")
    )


def _owners_of_messages(thread_ids: list[int]) -> set[tuple[str, str]]:
    from brygga.messaging.models import Message

    return {
        ("message", str(pk))
        for pk in Message.objects.filter(thread_id__in=thread_ids).values_list("pk", flat=True)
    }


def case_candidates(cutoff: dt.datetime) -> Iterator[Candidate]:
    """A finished case (discharged, died, cancelled, closed) whose newest entry — an event, a message in its
    threads, the planning basis — was written before the cutoff, and that nothing newer needs: no SIP refers
    to it, no attachment or document on it or its messages is within its period, and no settlement line that
    is still kept names it."""
    from brygga.cases.models import Case, CaseEvent
    from brygga.messaging.models import Thread
    from brygga.payment.models import SettlementLine
    from brygga.sip.models import Sip, SipOffer

    needed_owners = _owners_with_newer(cutoff)
    settled = set(SettlementLine.objects.exclude(case_reference="").values_list("case_reference", flat=True))
    referred = set(Sip.objects.exclude(case=None).values_list("case_id", flat=True))
    referred |= set(SipOffer.objects.exclude(case=None).values_list("case_id", flat=True))
    latest_event = dict(
        CaseEvent.objects.values("case_id")
        .annotate(latest=Max("recorded_at"))
        .values_list("case_id", "latest")
    )
    cases = Case.objects.filter(status__in=FINISHED_CASE).values_list("pk", "person_id", "created_at")
    for pk, person_id, created_at in cases.iterator():
        if pk in referred or str(pk) in settled or ("case", str(pk)) in needed_owners:
            continue
        threads = list(Thread.objects.filter(case_id=pk).values_list("pk", flat=True))
        moments = [created_at, latest_event.get(pk) or created_at, *_thread_latest(threads).values()]
        planning = Case.objects.filter(pk=pk).values_list("planning__updated_at", flat=True).first()
        if planning is not None:
            moments.append(planning)
        latest = max(moments)
        if latest >= cutoff or _owners_of_messages(threads) & needed_owners:
            continue
        yield Candidate("case", str(pk), person_id, latest)


def _delete_owned(owners: set[tuple[str, str]]) -> int:
    """Attachments and signed documents of the given owners (past their period with their owner)."""
    from brygga.documents.models import Attachment, Document

    files = 0
    for owner_type, owner_id in owners:
        for pk in Attachment.objects.filter(owner_type=owner_type, owner_id=owner_id).values_list(
            "pk", flat=True
        ):
            files += delete_attachment(str(pk))
        for pk in Document.objects.filter(owner_type=owner_type, owner_id=owner_id).values_list(
            "pk", flat=True
        ):
            files += delete_document(str(pk))
    return files


def delete_case(object_id: str) -> int:
    """The case with its events, threads and messages, planning, participants, meetings, receivers' plans,
    their attachments and documents, the FHIR notifications of its events, and the involvements it opened."""
    from brygga.access.models import Involvement
    from brygga.cases.models import Case, CaseEvent
    from brygga.fhir.models import Notification
    from brygga.messaging.models import Thread

    case = Case.objects.get(pk=object_id)
    threads = list(Thread.objects.filter(case=case).values_list("pk", flat=True))
    files = _delete_owned({("case", object_id)} | _owners_of_messages(threads))
    events = CaseEvent.objects.filter(case=case)
    Notification.objects.filter(case_event__in=events).delete()
    events.delete()  # immutable in use; deleted only with their case, here
    Involvement.objects.filter(source=case.source).delete()
    case.delete()  # threads (and their messages), planning, participants, meetings cascade
    return files


def thread_candidates(cutoff: dt.datetime) -> Iterator[Candidate]:
    """A message thread of a SIP or a care request whose newest message was sent before the cutoff and whose
    messages carry nothing still within its period (threads of a case go with their case)."""
    from brygga.messaging.models import Thread

    needed_owners = _owners_with_newer(cutoff)
    threads = Thread.objects.filter(case__isnull=True)
    latest = _thread_latest(threads)
    for pk, person_id, created_at in threads.values_list("pk", "person_id", "created_at").iterator():
        newest = latest.get(pk, created_at)
        if newest >= cutoff or _owners_of_messages([pk]) & needed_owners:
            continue
        yield Candidate("message_thread", str(pk), person_id, newest)


def delete_thread(object_id: str) -> int:
    from brygga.messaging.models import Thread

    files = _delete_owned(_owners_of_messages([int(object_id)]))
    Thread.objects.filter(pk=object_id).delete()  # its messages cascade
    return files


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
        Kind("case", _("Ärenden med händelser och meddelanden"), 10, JOURNAL, case_candidates, delete_case),
        Kind(
            "message_thread",
            _("Meddelandetrådar om SIP och vårdbegäran"),
            10,
            JOURNAL,
            thread_candidates,
            delete_thread,
        ),
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
