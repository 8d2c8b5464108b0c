"""Need-to-know and the access log (PDL 4 kap., HSLF-FS 2016:40 4 kap. 9 §; rules R-ACC-1, R-LOG-1..3).

An Involvement says that a unit takes part in a person's care (created by cases, SIPs, care requests).
It is the only thing that opens a person's data to a unit. Every read or change of a person's data writes an
AccessLogEntry in the same transaction. Entries are append-only (database triggers refuse UPDATE and DELETE)
and tamper-evident: each carries an HMAC of its content, and seals chain the entries in order, so a changed,
removed or re-ordered entry is detected by ``verify_access_log``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from brygga.accounts.models import AuthMethod


class Involvement(models.Model):
    class Kind(models.TextChoices):
        INPATIENT_CASE = "inpatient_case", _("Ärende, in- och utskrivning")
        SIP = "sip", _("SIP")
        OUTPATIENT = "outpatient", _("Öppenvårdsärende")
        OTHER = "other", _("Annat")

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="involvements")
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="involvements")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # What created the involvement, e.g. "case:42"; several sources may involve the same unit.
    source = models.CharField(max_length=60)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "unit", "source"], name="one_involvement_per_source")
        ]
        indexes = [models.Index(fields=["unit", "person"])]
        verbose_name = _("medverkan")
        verbose_name_plural = _("medverkan")

    def __str__(self) -> str:
        return f"{self.unit_id}:{self.person_id}:{self.source}"


class DenialReason(models.TextChoices):
    """Why a request for a person's data was refused (the ``reason`` of a DENIED entry)."""

    ROLE = "role", _("Rollen saknar behörighet")
    NO_INVOLVEMENT = "no_involvement", _("Enheten medverkar inte i personens vård")
    NOT_FOUND = "not_found", _("Finns inte eller tillhör inte enheten")


class AccessLogEntry(models.Model):
    class Action(models.TextChoices):
        READ = "read", _("Läsning")
        CREATE = "create", _("Registrering")
        UPDATE = "update", _("Ändring")
        LOOKUP = "lookup", _("Sökning på personnummer")
        REVEAL = "reveal", _("Visning av skyddade uppgifter")
        EXPORT = "export", _("Utskrift eller export")
        DENIED = "denied", _("Nekad åtkomst")

    at = models.DateTimeField(db_index=True)
    # Snapshots as well as keys: the log must stay readable after a user or unit is renamed or removed.
    # No index of their own on user and person: the (user, at) and (person, at) indexes below serve every
    # lookup by them, and each index is one more write on every page a user opens (issue 17).
    # No foreign-key constraints in the database (ADR 0708): PostgreSQL checked each at commit and locked the
    # user's, unit's and person's rows for it, 150 checks and 50 row locks for a list of 50 persons, about
    # 3 ms of every inbox view. The ids are those of rows the same transaction has just read.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    user_label = models.CharField(max_length=200)
    unit = models.ForeignKey(
        "organisations.Unit", on_delete=models.SET_NULL, null=True, related_name="+", db_constraint=False
    )
    unit_label = models.CharField(max_length=200)
    unit_hsa_id = models.CharField(max_length=31, blank=True)
    role = models.CharField(max_length=30, blank=True)
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    person_identifier = models.CharField(max_length=14, db_index=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    what = models.CharField(max_length=200)  # e.g. "person", "case:42", "sip:7/pdf"
    channel = models.CharField(max_length=10)  # web | api | command
    # How the user authenticated (accounts.models.AuthMethod: SITHS via OIDC or SAML, local, API token).
    auth_method = models.CharField(
        max_length=12, blank=True, default="", db_default="", choices=AuthMethod.choices
    )
    had_involvement = models.BooleanField()
    # Why a DENIED attempt was refused (a DenialReason value); empty for every other action.
    reason = models.CharField(max_length=30, blank=True, default="", choices=DenialReason.choices)
    mac = models.CharField(max_length=64)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["person", "at"]),
            models.Index(fields=["had_involvement", "at"]),
            models.Index(fields=["user", "at"]),
        ]
        verbose_name = _("loggpost")
        verbose_name_plural = _("åtkomstlogg")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_label} {self.action} {self.what}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None:
            raise RuntimeError("Access log entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("Access log entries are append-only.")


class AccessLogSeal(models.Model):
    """A link in the chain over the log: a keyed digest (HMAC, ADR 0800) of every entry's MAC from first_id to
    last_id and of the seal's own numbers, chained to the previous seal. ``high_id``/``high_count`` pin the
    not-yet-sealed tail: when the seal was made, ``high_count`` entries had an id up to ``high_id``, a number
    that can only grow in an append-only log. Written by the scheduled sealing task; append-only like the
    entries (triggers), and each seal is also written to the anchor outside the database."""

    class Scheme(models.TextChoices):
        SHA256 = "sha256", "SHA-256 (före ADR 0800)"
        HMAC_SHA256 = "hmac-sha256", "HMAC-SHA256"

    sequence = models.PositiveIntegerField(unique=True)
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    entry_count = models.PositiveIntegerField()
    digest = models.CharField(max_length=64)
    previous_digest = models.CharField(max_length=64)
    sealed_at = models.DateTimeField()
    scheme = models.CharField(max_length=12, choices=Scheme.choices, default=Scheme.HMAC_SHA256)
    high_id = models.BigIntegerField(default=0)
    high_count = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["sequence"]

    def __str__(self) -> str:
        return f"Försegling {self.sequence} ({self.first_id}–{self.last_id})"


class AccessLogPrune(models.Model):
    """The boundary left when the retention job drops the oldest whole sealed segments of the log (ADR 0409):
    the last dropped seal's sequence, last entry id and digest (the first remaining seal chains to it), how
    many entries went, and the newest entry's time. Keyed like the seals (``mac``), so no one without the log
    key can forge a boundary to excuse a deletion; append-only (triggers). The triggers on the entries and the
    seals admit a DELETE only of rows at or below the newest boundary."""

    through_sequence = models.PositiveIntegerField(unique=True)
    last_id = models.BigIntegerField()
    seal_digest = models.CharField(max_length=64)
    entry_count = models.BigIntegerField()
    newest_entry_at = models.DateTimeField()
    pruned_at = models.DateTimeField()
    retention_years = models.PositiveSmallIntegerField()
    mac = models.CharField(max_length=64)

    class Meta:
        ordering = ["through_sequence"]

    def __str__(self) -> str:
        return f"Gallring av loggen till och med försegling {self.through_sequence}"


class AccessLogStamp(models.Model):
    """An RFC 3161 time-stamp token over a seal (ADR 0808): a time-stamping authority (TSA) signed that the
    keyed imprint of seal ``sequence`` existed at ``gen_time``. Each new seal is stamped, and the newest seal
    again whenever its newest stamp is older than half of ``BRYGGA_ACCESS_LOG_STAMP_MAX_AGE``, so a fresh
    stamp always names the head of the chain: dropping the last seals leaves the newest stamp too old (or
    naming a seal that is gone). Append-only (triggers), like the seals. ``sequence`` is not a foreign key on
    purpose: a stamp outlives the seal it names, which is how a dropped seal is noticed."""

    sequence = models.PositiveIntegerField(db_index=True)
    imprint = models.CharField(max_length=64)
    token = models.BinaryField()
    gen_time = models.DateTimeField()
    tsa = models.CharField(max_length=200)

    class Meta:
        ordering = ["gen_time", "id"]

    def __str__(self) -> str:
        return f"Tidsstämpel för försegling {self.sequence} ({self.gen_time:%Y-%m-%d %H:%M:%S})"


class LogReview(models.Model):
    """A documented log check (R-LOG-1 items 5–6): what was examined, by whom, and the outcome."""

    class Kind(models.TextChoices):
        SAMPLE = "sample", _("Stickprov")
        TARGETED = "targeted", _("Riktad granskning")
        FLAGGED = "flagged", _("Åtkomst utan medverkan")

    class Outcome(models.TextChoices):
        JUSTIFIED = "justified", _("Befogad åtkomst")
        UNJUSTIFIED = "unjustified", _("Obefogad åtkomst — åtgärd krävs")
        FOLLOW_UP = "follow_up", _("Behöver utredas vidare")

    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewer_unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("typ av granskning"), max_length=10, choices=Kind.choices)
    outcome = models.CharField(_("bedömning"), max_length=12, choices=Outcome.choices)
    comment = models.TextField(_("kommentar"))
    entries = models.ManyToManyField(AccessLogEntry, related_name="reviews")
    period_start = models.DateField(_("period från"), null=True, blank=True)
    period_end = models.DateField(_("period till"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("logggranskning")
        verbose_name_plural = _("logggranskningar")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d}"
