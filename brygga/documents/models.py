"""Attachments, signed documents, register and log extracts, and the backup routine that replaces fax.

Everything here belongs to one person (``people.Person``) and, generically, to an owner in another app
(``owner_type`` + ``owner_id``: a message, a SIP, a care request …), so the apps that own messages and plans
can attach files and documents without this app knowing their models. Reading any of it goes through
``brygga.access.services`` (the active unit must be involved with the person) and is access-logged."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver
from django.utils import timezone
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext_lazy as _


class _DocumentStorage(LazyObject):
    """The "documents" alias from STORAGES (file system or S3-compatible), resolved on first use and again
    after the setting changes (tests), not frozen when the models are imported."""

    def _setup(self) -> None:
        self._wrapped = storages["documents"]  # type: ignore[assignment]


_document_storage = _DocumentStorage()


@receiver(setting_changed)
def _reset_storage(*, setting: str, **kwargs: object) -> None:
    if setting == "STORAGES":
        _document_storage._wrapped = empty  # type: ignore[assignment]


def document_storage() -> Storage:
    return _document_storage  # type: ignore[return-value]


def _path(prefix: str, instance: models.Model) -> str:
    # No file name and no person in the path: the key says nothing about whom the file concerns.
    return f"{prefix}/{timezone.now():%Y/%m}/{instance.key}"  # type: ignore[attr-defined]


def attachment_path(instance: models.Model, filename: str) -> str:
    return _path("bilagor", instance)


def signed_path(instance: models.Model, filename: str) -> str:
    return _path("signerade", instance)


def backup_path(instance: models.Model, filename: str) -> str:
    return _path("reserv", instance)


class Attachment(models.Model):
    class Scan(models.TextChoices):
        CLEAN = "clean", _("Virussökt, inget hittat")
        NOT_SCANNED = "not_scanned", _("Ingen virussökning konfigurerad")

    key = models.CharField(max_length=64, unique=True)
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    owner_type = models.CharField(_("tillhör typ"), max_length=40)  # e.g. "message", "sip", "care_request"
    owner_id = models.CharField(_("tillhör id"), max_length=40)
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(_("filnamn"), max_length=255)
    content_type = models.CharField(_("filtyp"), max_length=50)
    size = models.PositiveBigIntegerField(_("storlek"))
    sha256 = models.CharField(max_length=64)
    scan = models.CharField(max_length=12, choices=Scan.choices)
    file = models.FileField(storage=document_storage, upload_to=attachment_path, max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["owner_type", "owner_id"]),
            models.Index(fields=["person", "created_at"]),
        ]
        verbose_name = _("bilaga")
        verbose_name_plural = _("bilagor")

    def __str__(self) -> str:
        return f"Bilaga {self.pk}"


class Document(models.Model):
    """A document that is rendered to PDF and signed (a SIP, a discharge summary …). Its content lives in
    versions; a signed version is frozen and an edit creates the next version."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    owner_type = models.CharField(max_length=40)
    owner_id = models.CharField(max_length=40)
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner_type", "owner_id"]), models.Index(fields=["person"])]
        verbose_name = _("dokument")
        verbose_name_plural = _("dokument")

    def __str__(self) -> str:
        return f"Dokument {self.pk}"

    @property
    def current(self) -> DocumentVersion:
        return self.versions.order_by("-number").first()  # type: ignore[attr-defined,return-value]


class DocumentVersion(models.Model):
    key = models.CharField(max_length=64, unique=True)
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(_("rubrik"), max_length=200)
    body = models.TextField(_("innehåll"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    # The PDF as rendered, then as signed: every signature is an incremental update, so earlier signatures
    # stay verifiable in the same file.
    pdf = models.FileField(storage=document_storage, upload_to=signed_path, max_length=200)
    unsigned_sha256 = models.CharField(max_length=64)
    sha256 = models.CharField(max_length=64)  # of the current file, with its signatures

    class Meta:
        ordering = ["document", "number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="one_version_number")]
        verbose_name = _("dokumentversion")
        verbose_name_plural = _("dokumentversioner")

    def __str__(self) -> str:
        return f"Dokument {self.document_id} v{self.number}"

    @property
    def frozen(self) -> bool:
        return self.signatures.exists()  # type: ignore[attr-defined]


class Signature(models.Model):
    version = models.ForeignKey(DocumentVersion, on_delete=models.PROTECT, related_name="signatures")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer_label = models.CharField(max_length=200)
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    unit_label = models.CharField(max_length=200)
    role = models.CharField(max_length=30)
    field_name = models.CharField(max_length=40)
    backend = models.CharField(max_length=20)
    certificate_subject = models.CharField(max_length=300)
    certificate_serial = models.CharField(max_length=80)
    signed_at = models.DateTimeField()

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [models.UniqueConstraint(fields=["version", "signer"], name="one_signature_per_signer")]
        verbose_name = _("underskrift")
        verbose_name_plural = _("underskrifter")

    def __str__(self) -> str:
        return f"Underskrift {self.pk}"


class SignServiceRequest(models.Model):
    """A signature asked of the signing service (ADR 0408), between the request the browser carries there and
    the response it brings back. The prepared PDF is kept byte for byte: the signature covers its /ByteRange.
    The membership (user, unit, role) is the signer's at the start; the response comes without a session."""

    class State(models.TextChoices):
        PENDING = "pending", _("väntar")
        SIGNED = "signed", _("undertecknad")
        REFUSED = "refused", _("avvisad")

    request_id = models.CharField(max_length=64, unique=True)
    sign_task_id = models.CharField(max_length=64)
    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey("accounts.Membership", on_delete=models.CASCADE, related_name="+")
    signer_label = models.CharField(max_length=200)
    field_name = models.CharField(max_length=40)
    version_sha256 = models.CharField(max_length=64)
    prepared_pdf = models.BinaryField()
    digest = models.BinaryField()
    region_start = models.PositiveIntegerField()
    region_end = models.PositiveIntegerField()
    signed_attributes = models.BinaryField()
    request_xml = models.BinaryField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    problem = models.CharField(max_length=400, blank=True)

    class Meta:
        verbose_name = _("begäran till underskriftstjänsten")
        verbose_name_plural = _("begäranden till underskriftstjänsten")

    def __str__(self) -> str:
        return f"Underskriftsbegäran {self.request_id}"


class ExtractRequest(models.Model):
    """A person's request for a register extract (GDPR art. 15, R-REG-1) or a log extract (R-LOG-3), with the
    one-month deadline."""

    class Kind(models.TextChoices):
        REGISTER = "register", _("Registerutdrag")
        LOG = "log", _("Loggutdrag")

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("typ av utdrag"), max_length=10, choices=Kind.choices)
    received_on = models.DateField(_("begäran mottagen"))
    due_on = models.DateField(_("senast"))
    extended_to = models.DateField(_("förlängt till"), null=True, blank=True)
    extension_reason = models.TextField(_("skäl till förlängning"), blank=True)
    extension_notified_on = models.DateField(_("den registrerade underrättad"), null=True, blank=True)
    note = models.TextField(_("anteckning"), blank=True)
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(_("levererat"), null=True, blank=True)
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    delivered_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("begäran om utdrag")
        verbose_name_plural = _("begäranden om utdrag")

    def __str__(self) -> str:
        return f"Utdragsbegäran {self.pk}"

    @property
    def deadline(self) -> dt.date:
        return self.extended_to or self.due_on

    def is_overdue(self, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.delivered_at is None and today > self.deadline


class BackupKey(models.Model):
    """A unit's passphrase for its encrypted backup snapshots, kept encrypted at rest (AES-GCM)."""

    unit = models.OneToOneField("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    encrypted_passphrase = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Reservnyckel {self.unit_id}"


class BackupSnapshot(models.Model):
    """An encrypted PDF of the persons a unit is involved with, to work from when brygga is unavailable."""

    class Trigger(models.TextChoices):
        SCHEDULED = "scheduled", _("Schemalagd")
        MANUAL = "manual", _("Hämtad av användare")

    key = models.CharField(max_length=64, unique=True)
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    person_ids = models.JSONField(default=list)
    file = models.FileField(storage=document_storage, upload_to=backup_path, max_length=200)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["unit", "created_at"])]
        verbose_name = _("reservutdrag")
        verbose_name_plural = _("reservutdrag")

    def __str__(self) -> str:
        return f"Reservutdrag {self.pk}"


class PaperRecord(models.Model):
    """Something done on paper while brygga was unavailable, registered afterwards and marked as such."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField(_("utfört"))
    summary = models.TextField(_("vad som gjordes"))
    snapshot = models.ForeignKey(
        BackupSnapshot, on_delete=models.PROTECT, null=True, blank=True, related_name="paper_records"
    )
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(_("registrerat i efterhand"))

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("efterregistrering från pappersrutin")
        verbose_name_plural = _("efterregistreringar från pappersrutin")

    def __str__(self) -> str:
        return f"Pappersrutin {self.pk}"


def delivery_path(instance: models.Model, filename: str) -> str:
    return _path("reservleverans", instance)


class BackupDestination(models.Model):
    """Where a unit's reserve copies go, out of brygga, encrypted to the unit's own key (ADR 0405): an age
    public key the unit generated (it keeps the secret key, brygga never sees it) and an SFTP server the unit
    administers, with that server's host key so brygga never talks to an impostor."""

    unit = models.OneToOneField("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    age_recipient = models.CharField(_("enhetens publika nyckel (age)"), max_length=100)
    sftp_host = models.CharField(_("SFTP-server"), max_length=200, blank=True)
    sftp_port = models.PositiveIntegerField(_("port"), default=22)
    sftp_user = models.CharField(_("användarnamn"), max_length=100, blank=True)
    sftp_directory = models.CharField(_("katalog"), max_length=300, default=".")
    sftp_host_key = models.TextField(_("serverns värdnyckel"), blank=True)
    # A second (or the only) way out: the encrypted copy as an e-mail attachment to the unit's address.
    email = models.EmailField(_("e-postadress"), max_length=254, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("mottagare av reservkopior")
        verbose_name_plural = _("mottagare av reservkopior")

    def __str__(self) -> str:
        return f"Reservmottagare {self.unit_id}"

    @property
    def channels(self) -> list[str]:
        return [c for c, on in (("sftp", bool(self.sftp_host)), ("email", bool(self.email))) if on]


class BackupDelivery(models.Model):
    """One snapshot on its way to the unit's destination: the payload is already encrypted to the unit's key,
    so retries send the same bytes; every attempt's outcome is kept."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Väntar")
        DELIVERED = "delivered", _("Levererad")
        SUPERSEDED = "superseded", _("Ersatt av nyare")

    class Channel(models.TextChoices):
        SFTP = "sftp", _("SFTP")
        EMAIL = "email", _("e-post")

    key = models.CharField(max_length=64, unique=True)
    snapshot = models.ForeignKey(BackupSnapshot, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.SFTP)
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    payload = models.FileField(storage=document_storage, upload_to=delivery_path, max_length=200)
    remote_name = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["unit", "status"]),
        ]
        verbose_name = _("leverans av reservkopia")
        verbose_name_plural = _("leveranser av reservkopior")

    def __str__(self) -> str:
        return f"Reservleverans {self.pk}"
