"""Message threads and their messages (ADR 0104). A thread belongs to exactly one subject — a case, a SIP or a
care request — through explicit nullable foreign keys named by string, so this app imports neither the cases
nor the SIP app: they sit above it (ADR 0009). The tables keep the names they had in the cases app."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Thread(models.Model):
    """A message thread with a MedCom category shown in Swedish and a subject. It belongs to exactly one
    subject: a case, a SIP or a care request (explicit nullable foreign keys with a check constraint, so the
    database keeps them consistent; ADR 0104). ``person`` is the subject's person, kept on the thread so
    attachments and access checks need no branching on the subject."""

    class Category(models.TextChoices):
        ALCOHOL_AND_DRUG = "alcohol-and-drug-treatment", _("Alkohol- och missbruksbehandling")
        ASSISTIVE_DEVICES = "assistive-devices", _("Hjälpmedel")
        CARECOORDINATION = "carecoordination", _("Samordning")
        DECEASE = "decease", _("Dödsfall")
        DISCHARGE = "discharge", _("Utskrivning")
        EXAMINATION_RESULTS = "examination-results", _("Undersökningsresultat")
        HEALTHCARE = "healthcare", _("Hälso- och sjukvård")
        HOME_CARE_ASSESSMENT = "home-care-assessment", _("Biståndsbedömning")
        MEDICINE = "medicine", _("Läkemedel")
        NURSING = "nursing", _("Omvårdnad")
        OUTPATIENT = "outpatient", _("Öppenvård")
        PSYCHIATRY_SOCIAL_DISABILITY = "psychiatry-social-disability", _("Psykiatri och funktionsnedsättning")
        REGARDING_REFERRAL = "regarding-referral", _("Angående remiss")
        TELEMEDICINE = "telemedicine", _("Telemedicin")
        TRAINING = "training", _("Träning och rehabilitering")
        ACUTE_AMBULANT = "acute-ambulant", _("Akut ambulant")
        EXTENDED_CARE_RESPONSIBILITY = "extended-care-responsibility", _("Utvidgat behandlingsansvar")
        OTHER = "other", _("Övrigt")

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="threads"
    )
    sip = models.ForeignKey(
        "sip.Sip", on_delete=models.CASCADE, null=True, blank=True, related_name="threads"
    )
    care_request = models.ForeignKey(
        "sip.CareRequest", on_delete=models.CASCADE, null=True, blank=True, related_name="threads"
    )
    category = models.CharField(_("kategori"), max_length=40, choices=Category.choices)
    subject = models.CharField(_("ämne"), max_length=200)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "cases_thread"  # moved from the cases app (ADR 0009); the table kept its name
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(case__isnull=False, sip__isnull=True, care_request__isnull=True)
                    | models.Q(case__isnull=True, sip__isnull=False, care_request__isnull=True)
                    | models.Q(case__isnull=True, sip__isnull=True, care_request__isnull=False)
                ),
                name="thread_has_exactly_one_subject",
            )
        ]

    def __str__(self) -> str:
        return f"Tråd {self.pk}"


class Message(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_label = models.CharField(max_length=200)
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("text"))
    # On reply or forward the user chooses what of the earlier message to include (MedCom).
    quoted = models.TextField(blank=True)
    in_reply_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    pinned = models.BooleanField(_("fäst"), default=False)
    sent_at = models.DateTimeField()
    # R-SEK-2: the legal basis per receiving unit when the message was sent, as decided by
    # brygga.consent.services.decide_disclosure: {"category": ..., "units": [{"unit": {...}, "principal": ...,
    # "basis": ..., "rule": ..., "label": ..., "ref": ...}]}. Empty for messages sent before it was recorded.
    legal_basis = models.JSONField(_("rättslig grund"), default=dict, blank=True)

    class Meta:
        db_table = "cases_message"  # moved from the cases app (ADR 0009)
        ordering = ["sent_at", "id"]

    def __str__(self) -> str:
        return f"Meddelande {self.pk}"
