"""The inpatient case (ärende) under Lag (2017:612): one per stay, its receiving units, its immutable event
history, planning, meetings and messages.

State lives in two places on purpose: the ``Case`` row holds the *current* structured state (what the status
header, the inbox and the deadlines read), and ``CaseEvent`` holds the *history* (what statistics and payment
read). Both are written by the same service function in the same transaction (brygga.cases.services)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from brygga.cases import rules

SOURCE_PREFIX = "case:"


class Case(models.Model):
    class CareType(models.TextChoices):
        SOMATIC = "somatic", _("Somatisk vård")
        PSYCHIATRIC = "psychiatric", _("Psykiatrisk vård")

    class Status(models.TextChoices):
        ADMITTED = "admitted", _("Inskriven")
        ON_LEAVE = "on_leave", _("Permission")
        DISCHARGED = "discharged", _("Utskriven")
        DIED = "died", _("Avliden")
        CANCELLED = "cancelled", _("Makulerat")
        CLOSED = "closed", _("Avslutat")

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="cases")
    # The person's registered municipality at admission (R-INS-7, R-VG-BET-2); kept even if the person moves.
    municipality = models.ForeignKey(
        "organisations.Municipality",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("folkbokföringskommun vid inskrivning"),
    )
    ward = models.ForeignKey(
        "organisations.Unit", on_delete=models.PROTECT, related_name="ward_cases", verbose_name=_("avdelning")
    )
    site = models.ForeignKey(
        "organisations.Site", on_delete=models.PROTECT, related_name="cases", verbose_name=_("sjukhus")
    )
    care_type = models.CharField(_("vårdform"), max_length=12, choices=CareType.choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.ADMITTED)
    # An identifier from the hospital EHR, unique per ward, so integrations can address their own cases.
    external_id = models.CharField(_("externt id"), max_length=64, blank=True)

    admitted_at = models.DateTimeField(_("inskriven"))
    # When the physician judged that the patient may need efforts after discharge (R-INS-1..3). Equal to
    # admitted_at when judged at admission; later when judged during the stay; null when not (yet) judged.
    need_assessed_at = models.DateTimeField(_("behov bedömt"), null=True, blank=True)
    notice_sent_at = models.DateTimeField(_("inskrivningsmeddelande skickat"), null=True, blank=True)
    notice_late = models.BooleanField(_("inskrivningsmeddelande sent"), default=False)
    expected_discharge_date = models.DateField(_("beräknat utskrivningsdatum"), null=True, blank=True)

    discharge_ready_at = models.DateTimeField(_("utskrivningsklar"), null=True, blank=True)
    discharge_ready_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # R-SIP-K-1: tracked when both principals' efforts are needed (from the planning basis).
    sip_needed = models.BooleanField(_("SIP behövs"), default=False)
    sip_summons_due_at = models.DateTimeField(_("kallelse till SIP senast"), null=True, blank=True)
    sip_summons_sent_at = models.DateTimeField(_("kallelse till SIP skickad"), null=True, blank=True)

    # R-FVK-1: appointed by the vårdcentral.
    coordinator_name = models.CharField(_("fast vårdkontakt"), max_length=200, blank=True)
    coordinator_phone = models.CharField(_("telefon"), max_length=40, blank=True)
    coordinator_unit = models.ForeignKey(
        "organisations.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    discharge_info_sent_at = models.DateTimeField(_("information vid utskrivning"), null=True, blank=True)
    patient_summary_given_at = models.DateTimeField(_("sammanfattning till patienten"), null=True, blank=True)
    discharged_at = models.DateTimeField(_("utskriven"), null=True, blank=True)
    discharge_notice_sent_at = models.DateTimeField(_("utskrivningsmeddelande"), null=True, blank=True)
    closed_at = models.DateTimeField(_("avslutat"), null=True, blank=True)
    # The checklist for a safe discharge: {item key: {"at": iso, "by": user label}}.
    checklist = models.JSONField(default=dict, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    last_event_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-admitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["ward", "external_id"],
                condition=~models.Q(external_id=""),
                name="one_external_id_per_ward",
            ),
            # One open stay per person, whatever the timing (ADR 0108): a partial unique index, so two
            # concurrent admissions of the same person cannot both commit (SQLite and PostgreSQL alike).
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(status__in=["admitted", "on_leave"]),
                name="one_open_stay_per_person",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "admitted_at"]),
            models.Index(fields=["person", "status"]),
            # A month's settlement selects the stays discharged in its window, still open, or closed without a
            # discharge inside it (cases.facts.payment_cases): each branch of the OR is a range here.
            models.Index(fields=["discharged_at", "closed_at"], name="case_discharged_closed"),
        ]
        verbose_name = _("ärende")
        verbose_name_plural = _("ärenden")

    def __str__(self) -> str:
        return f"Ärende {self.pk}"

    @property
    def source(self) -> str:
        """The involvement source that opens the person to this case's units."""
        return f"{SOURCE_PREFIX}{self.pk}"

    @property
    def notice_due_at(self) -> dt.datetime | None:
        """R-INS-2/3: 24 hours from admission, or from the later assessment."""
        if self.need_assessed_at is None:
            return None
        return rules.notice_due_at(self.need_assessed_at)

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.ADMITTED, self.Status.ON_LEAVE)


class Participant(models.Model):
    """A unit taking part in a case: the ward that sends, and every receiving unit. Also the unit's inbox row,
    carrying its human acknowledgement (kvittering)."""

    class Role(models.TextChoices):
        WARD = "ward", _("Slutenvård")
        MUNICIPALITY = "municipality", _("Kommun")
        PRIMARY_CARE = "primary_care", _("Vårdcentral")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Aktiv")
        REJECTED = "rejected", _("Avvisad")
        LEFT = "left", _("Inte längre delaktig")

    class Addressing(models.TextChoices):
        AUTOMATIC = "automatic", _("Från folkbokföring och listning")
        MANUAL = "manual", _("Manuellt vald")
        SENDER = "sender", _("Avsändare")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="participants")
    unit = models.ForeignKey(
        "organisations.Unit", on_delete=models.PROTECT, related_name="case_participations"
    )
    role = models.CharField(max_length=14, choices=Role.choices)
    addressing = models.CharField(max_length=10, choices=Addressing.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    added_at = models.DateTimeField()
    rejected_reason = models.CharField(max_length=20, blank=True)
    rejected_text = models.CharField(max_length=500, blank=True)
    # Inbox state: something new from another unit that this unit has not acknowledged yet.
    needs_ack = models.BooleanField(default=True)
    unacked_since = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Denormalised from the case for the inbox, so it is filtered, ordered and paged in the database from this
    # table alone (ADR 0105). Kept in step by brygga.cases.services.record_event, which every state change
    # calls; ``refresh_inbox`` recomputes them after a bulk load. ``next_due_at``: the earliest open deadline
    # of what this unit's role must do (selectors.deadlines), null when none.
    case_status = models.CharField(max_length=12, blank=True, default="", db_default="")
    last_event_at = models.DateTimeField(null=True, blank=True)
    next_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "unit"], name="one_participation_per_unit")]
        indexes = [
            models.Index(fields=["unit", "status", "needs_ack"]),
            # The inbox: a unit's active rows by case status (the filters), then what is due; on PostgreSQL it
            # also covers every column the ordering reads, so even "Alla" is an index-only scan.
            models.Index(
                fields=["unit", "case_status", "next_due_at"],
                include=["id", "last_event_at", "needs_ack", "unacked_since", "acknowledged_at", "role"],
                condition=models.Q(status="active"),
                name="participant_inbox_cover",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id}@{self.case_id}"


class CaseEvent(models.Model):
    """One immutable fact about a case: who (user, unit) did what (kind, data) and when it happened
    (occurred_at) versus when it was recorded (recorded_at). The basis for deadlines, statistics and payment.

    Corrections and cancellations never change an event: they are new events (``notice_corrected``,
    ``notice_cancelled``) whose ``data["target_event"]`` names the event they correct or void."""

    class Kind(models.TextChoices):
        ADMITTED = "admitted", _("Inskriven")
        ADMISSION_NOTICE_SENT = "admission_notice_sent", _("Inskrivningsmeddelande skickat")
        ADMISSION_NOTICE_REJECTED = "admission_notice_rejected", _("Inskrivningsmeddelande avvisat")
        EXPECTED_DATE_CHANGED = "expected_date_changed", _("Beräknat utskrivningsdatum ändrat")
        DISCHARGE_READY_SET = "discharge_ready_set", _("Utskrivningsklar")
        DISCHARGE_READY_WITHDRAWN = "discharge_ready_withdrawn", _("Utskrivningsklar återtagen")
        SIP_SUMMONS_SENT = "sip_summons_sent", _("Kallelse till SIP skickad")
        MEETING_BOOKED = "meeting_booked", _("Planeringsmöte bokat")
        COORDINATOR_APPOINTED = "coordinator_appointed", _("Fast vårdkontakt utsedd")
        DISCHARGE_INFO_SENT = "discharge_info_sent", _("Information vid utskrivning skickad")
        DISCHARGE_NOTICE_SENT = "discharge_notice_sent", _("Utskrivningsmeddelande skickat")
        DISCHARGED = "discharged", _("Utskriven")
        CLOSED = "closed", _("Ärendet avslutat")
        CANCELLED = "cancelled", _("Ärendet makulerat")
        TRANSFERRED = "transferred", _("Omflyttning")
        LEAVE_STARTED = "leave_started", _("Permission påbörjad")
        LEAVE_ENDED = "leave_ended", _("Permission avslutad")
        DIED = "died", _("Avliden")
        NOTICE_CORRECTED = "notice_corrected", _("Meddelande rättat")
        NOTICE_CANCELLED = "notice_cancelled", _("Meddelande annullerat")
        ACKNOWLEDGED = "acknowledged", _("Kvitterat")
        MESSAGE_SENT = "message_sent", _("Meddelande skickat")
        # Additions beyond the shared contract (ADR 0101); consumers may ignore them.
        PLANNING_UPDATED = "planning_updated", _("Planeringsunderlag uppdaterat")
        CHECKLIST_UPDATED = "checklist_updated", _("Checklista uppdaterad")
        # The person moved to another municipality (folkbokföring); the addressing followed (ADR 0500).
        READDRESSED = "readdressed", _("Omadresserat efter ändrad folkbokföring")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["case", "occurred_at"]),
            models.Index(fields=["kind", "occurred_at"]),
        ]
        verbose_name = _("händelse")
        verbose_name_plural = _("händelser")

    def __str__(self) -> str:
        return f"{self.kind} @ {self.occurred_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None:
            raise RuntimeError("Case events are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("Case events are immutable.")


class PlanningBasis(models.Model):
    """The structured planning basis (planeringsunderlag). Mandatory questions take "ja", "nej" or "vet_ej";
    "vet ej" is an explicit answer, counted (``unknown_count``), never an empty field."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="planning")
    answers = models.JSONField(default=dict)  # question key → "ja" | "nej" | "vet_ej"
    needs = models.JSONField(default=dict)  # receiver key → {"answer": ..., "text": ...}
    nursing_status = models.JSONField(default=dict)  # area key → free text
    medications = models.TextField(blank=True)
    consent = models.CharField(max_length=10, blank=True)  # "ja" | "nej" | "vet_ej"
    unknown_count = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"Planeringsunderlag {self.case_id}"


class Meeting(models.Model):
    class Form(models.TextChoices):
        ON_SITE = "on_site", _("Fysiskt möte")
        PHONE = "phone", _("Telefon")
        VIDEO = "video", _("Video")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="meetings")
    form = models.CharField(_("mötesform"), max_length=10, choices=Form.choices)
    starts_at = models.DateTimeField(_("tid"))
    location = models.CharField(_("plats"), max_length=200, blank=True)
    video_link = models.URLField(_("videolänk"), blank=True)
    participants = models.ManyToManyField("organisations.Unit", related_name="+")
    note = models.CharField(_("anteckning"), max_length=500, blank=True)
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    booked_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at"]

    def __str__(self) -> str:
        return f"Möte {self.starts_at:%Y-%m-%d %H:%M}"
