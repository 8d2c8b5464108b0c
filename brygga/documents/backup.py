"""The backup routine that replaces fax (ADR 0403): per unit, an encrypted PDF of the persons the unit is
involved with, produced on a schedule and on demand, to work from when brygga is unavailable; afterwards,
what was done on paper is registered and marked as registered afterwards.

The PDF is encrypted with PDF 2.0 AES-256 (any PDF reader opens it) under the unit's passphrase. The
passphrase is generated once per unit, shown to the unit's staff in brygga (to keep in the unit's reserve
routine binder), and stored encrypted with AES-GCM under BRYGGA_BACKUP_KEY (default: derived from
SECRET_KEY) so the scheduled job can encrypt without a person present."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import secrets
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.access.models import AccessLogEntry, Involvement
from brygga.access.services import involved_person_ids, log_access, open_person
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError, NotFound, Problem
from brygga.documents import pdf
from brygga.documents.delivery import deliver_pending, queue_delivery
from brygga.documents.extracts import ExtractPart
from brygga.documents.models import Attachment, BackupKey, BackupSnapshot, DocumentVersion, PaperRecord
from brygga.documents.owners import owner_label
from brygga.organisations.models import Unit
from brygga.people.models import Person
from brygga.people.presenters import display_address, display_identifier, display_name

Action = AccessLogEntry.Action
KEEP_SNAPSHOTS = 3
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read from paper and typed by hand

SnapshotProvider = Callable[[Unit, Person], list[ExtractPart]]
_SNAPSHOT_PROVIDERS: dict[str, SnapshotProvider] = {}


def register_snapshot_provider(key: str, provider: SnapshotProvider) -> None:
    """Let an app add what a unit needs to keep working (e.g. active cases and their planned dates)."""
    _SNAPSHOT_PROVIDERS[key] = provider


# --- the unit's passphrase ----------------------------------------------------------------------------------


def _master_key() -> bytes:
    configured = settings.BRYGGA_BACKUP_KEY
    material = configured.encode() if configured else b"brygga-backup:" + settings.SECRET_KEY.encode()
    return hashlib.sha256(material).digest()


def _new_passphrase() -> str:
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(20))
    return "-".join(chars[i : i + 4] for i in range(0, 20, 4))


def unit_passphrase(unit: Unit) -> str:
    key = BackupKey.objects.filter(unit=unit).first()
    aad = unit.hsa_id.encode()
    if key is None:
        passphrase = _new_passphrase()
        nonce = os.urandom(12)
        sealed = nonce + AESGCM(_master_key()).encrypt(nonce, passphrase.encode(), aad)
        key, _created = BackupKey.objects.get_or_create(unit=unit, defaults={"encrypted_passphrase": sealed})
    data = bytes(key.encrypted_passphrase)
    return AESGCM(_master_key()).decrypt(data[:12], data[12:], aad).decode()


def encrypt_pdf(data: bytes, passphrase: str) -> bytes:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.writer import copy_into_new_writer

    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(data)))
    writer.encrypt(owner_pass=passphrase, user_pass=passphrase)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- the snapshot -------------------------------------------------------------------------------------------


def _when(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def _person_sections(unit: Unit, person: Person) -> list[pdf.Section]:
    sections = [
        pdf.Section(
            f"{display_name(person)}, {display_identifier(person)}",
            [
                _("Adress: %(address)s") % {"address": display_address(person) or "—"},
                _("Folkbokföringskommun: %(m)s. Listad vårdcentral: %(u)s.")
                % {
                    "m": person.registered_municipality.name if person.registered_municipality else "—",
                    "u": person.listed_unit.name if person.listed_unit else "—",
                },
            ],
            [[_("Medverkande enhet"), "HSA-id", _("Sammanhang"), _("Sedan")]]
            + [
                [i.unit.name, i.unit.hsa_id, i.get_kind_display(), _when(i.started_at)]
                for i in Involvement.objects.filter(person=person, ended_at__isnull=True).select_related(
                    "unit"
                )
            ],
            new_page=True,
        )
    ]
    versions = DocumentVersion.objects.filter(document__person=person).prefetch_related("signatures")
    rows = [[_("Dokument"), _("Version"), _("Undertecknad av")]]
    rows += [
        [v.title, str(v.number), ", ".join(s.signer_label for s in v.signatures.all()) or "—"]
        for v in versions.order_by("document_id", "number")
    ]
    files = [[_("Bilaga"), _("Hör till"), _("Tid")]] + [
        [a.filename, f"{owner_label(a.owner_type)} {a.owner_id}", _when(a.created_at)]
        for a in Attachment.objects.filter(person=person)
    ]
    if len(rows) > 1:
        sections.append(pdf.Section(_("Dokument"), rows=rows))
    if len(files) > 1:
        sections.append(pdf.Section(_("Bilagor (finns i brygga)"), rows=files))
    for provider in _SNAPSHOT_PROVIDERS.values():
        for part in provider(unit, person):
            sections.append(pdf.Section(part.heading, part.paragraphs, part.rows))
    return sections


def render_snapshot(unit: Unit, persons: list[Person], at: dt.datetime) -> bytes:
    sections = [
        pdf.Section(
            _("Så används reservutdraget"),
            [
                _(
                    "Utdraget visar läget i brygga vid tidpunkten ovan för de personer enheten medverkar "
                    "för. Använd det bara när brygga inte går att nå. Dokumentera det som görs på papper och "
                    "registrera det i brygga i efterhand (Reservrutin > Registrera i efterhand)."
                ),
                _(
                    "Utdraget innehåller personuppgifter: förvara det som en journalhandling och förstör det "
                    "när ett nyare finns."
                ),
            ],
            [[_("Person"), _("Nummer")]] + [[display_name(p), display_identifier(p)] for p in persons],
        )
    ]
    for person in persons:
        sections += _person_sections(unit, person)
    return pdf.render(
        pdf.PdfDocument(
            title=_("Reservutdrag för %(unit)s") % {"unit": unit.name},
            facts=[
                (_("Enhet"), f"{unit.name} ({unit.hsa_id})"),
                (_("Framtaget"), _when(at)),
                (_("Antal personer"), str(len(persons))),
            ],
            sections=sections,
        )
    )


def produce_snapshot(unit: Unit, actor: Actor | None = None) -> BackupSnapshot:
    """Produce and store an encrypted snapshot for the unit. Keeps the latest few (and any that paper records
    refer to)."""
    now = timezone.now()
    persons = list(
        Person.objects.filter(pk__in=involved_person_ids(unit)).select_related(
            "registered_municipality", "listed_unit"
        )
    )
    plain = render_snapshot(unit, persons, now)
    data = encrypt_pdf(plain, unit_passphrase(unit))
    with transaction.atomic():
        snapshot = BackupSnapshot(
            key=secrets.token_hex(16),
            unit=unit,
            trigger=BackupSnapshot.Trigger.MANUAL if actor else BackupSnapshot.Trigger.SCHEDULED,
            created_by=actor.user if actor else None,
            created_at=now,
            person_ids=[p.pk for p in persons],
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
        )
        snapshot.file.save(snapshot.key, ContentFile(data), save=False)
        snapshot.save()
        # Out of brygga too, encrypted to the unit's own key, when the unit has a destination (ADR 0405).
        queue_delivery(snapshot, plain)
        old = BackupSnapshot.objects.filter(unit=unit, paper_records__isnull=True).order_by(
            "-created_at", "-id"
        )[KEEP_SNAPSHOTS:]
        for stale in list(old):
            for delivery in stale.deliveries.all():  # type: ignore[attr-defined]
                transaction.on_commit(_deleter(delivery.payload.storage, delivery.payload.name))
            stale.delete()
            transaction.on_commit(_deleter(stale.file.storage, stale.file.name))
    return snapshot


def _deleter(storage: Storage, name: str | None) -> Callable[[], None]:
    def delete() -> None:
        if name:
            storage.delete(name)

    return delete


def units_to_back_up() -> list[Unit]:
    unit_ids = Involvement.objects.filter(ended_at__isnull=True).values("unit_id").distinct()
    return list(Unit.objects.filter(pk__in=unit_ids, is_active=True))


def produce_all_snapshots(since: dt.datetime | None = None) -> int:
    """A snapshot for every unit to back up; returns how many were made. With ``since`` (when the scheduled
    run was asked for), a unit that already has a snapshot made since then is left out: a run retried after
    its worker was killed half-way makes the remaining units' snapshots, not a second one for those already
    done (each unit's snapshot is written in its own transaction)."""
    done: set[int] = set()
    if since is not None:
        done = set(BackupSnapshot.objects.filter(created_at__gte=since).values_list("unit_id", flat=True))
    count = 0
    for unit in units_to_back_up():
        if unit.pk in done:
            continue
        produce_snapshot(unit)
        count += 1
    deliver_pending()
    return count


# --- what users do ------------------------------------------------------------------------------------------


def unit_snapshots(actor: Actor):  # type: ignore[no-untyped-def]
    if not actor.can(Perm.PERSON_READ) or actor.unit is None:
        return BackupSnapshot.objects.none()
    return BackupSnapshot.objects.filter(unit=actor.unit)


def open_snapshot(actor: Actor, snapshot_id: int | str) -> BackupSnapshot:
    """The unit's own snapshot; downloading it is logged as an export for every person in it."""
    try:
        pk = int(snapshot_id)
    except (TypeError, ValueError) as exc:
        raise NotFound from exc
    snapshot = unit_snapshots(actor).filter(pk=pk).first()
    if snapshot is None:
        raise NotFound
    involved = set(Involvement.objects.filter(unit=actor.unit).values_list("person_id", flat=True))
    for person in Person.objects.filter(pk__in=snapshot.person_ids):
        log_access(actor, person, Action.EXPORT, f"reservutdrag:{snapshot.pk}", person.pk in involved)
    return snapshot


def register_paper_record(
    actor: Actor,
    person_id: int | str,
    occurred_at: dt.datetime | None,
    summary: str,
    snapshot_id: int | str | None = None,
) -> PaperRecord:
    """Register afterwards what was done on paper during an outage. It is stored as such, with both times."""
    actor.require(Perm.MESSAGE_SEND)
    with transaction.atomic():
        person = open_person(actor, person_id, "pappersrutin", action=Action.CREATE)
        now = timezone.now()
        problems = []
        if occurred_at is None:
            problems.append(Problem("occurred_at", "DOK-RES-1", _("Ange när det gjordes.")))
        elif occurred_at > now:
            problems.append(Problem("occurred_at", "DOK-RES-1", _("Tidpunkten kan inte ligga i framtiden.")))
        if not (summary or "").strip():
            problems.append(Problem("summary", "DOK-RES-1", _("Beskriv vad som gjordes på papper.")))
        snapshot = None
        if snapshot_id:
            snapshot = unit_snapshots(actor).filter(pk=snapshot_id).first()
            if snapshot is None:
                problems.append(Problem("snapshot", "DOK-RES-1", _("Okänt reservutdrag.")))
        if problems:
            raise DomainError(problems)
        assert occurred_at is not None and actor.unit is not None
        return PaperRecord.objects.create(
            person=person,
            unit=actor.unit,
            occurred_at=occurred_at,
            summary=summary.strip(),
            snapshot=snapshot,
            registered_by=actor.user,
            registered_at=now,
        )
