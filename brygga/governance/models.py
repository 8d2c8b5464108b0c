"""The management plane: managed objects and their yearly plans, forums with mandates and members, cases
from need to decision, meetings with agendas and minutes, consultations (remiss) and the decision log.

Cases here are governance cases (needs, change requests, questions about the shared service). They hold no
personal data; a suggestion raised from a coordination case keeps only a reference text."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ManagedObject(models.Model):
    """A förvaltningsobjekt (seed 004: closed, current, possibly coming)."""

    class Status(models.TextChoices):
        POSSIBLE = "possible", _("Eventuellt kommande")
        CURRENT = "current", _("Aktuellt")
        CLOSED = "closed", _("Avslutat")

    code = models.SlugField(_("kod"), max_length=40, unique=True)
    name = models.CharField(_("namn"), max_length=200)
    description = models.TextField(_("beskrivning"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    status_since = models.DateField(_("status sedan"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("förvaltningsobjekt")
        verbose_name_plural = _("förvaltningsobjekt")

    def __str__(self) -> str:
        return self.name


class ManagedObjectStatus(models.Model):
    """The status history of a managed object: one row per change."""

    managed_object = models.ForeignKey(ManagedObject, on_delete=models.CASCADE, related_name="status_history")
    status = models.CharField(max_length=10, choices=ManagedObject.Status.choices)
    since = models.DateField()
    note = models.CharField(max_length=300, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["managed_object", "since", "pk"]

    def __str__(self) -> str:
        return f"{self.managed_object}: {self.status} {self.since}"


class ManagementPlan(models.Model):
    managed_object = models.ForeignKey(ManagedObject, on_delete=models.PROTECT, related_name="plans")
    year = models.PositiveSmallIntegerField(_("år"))
    title = models.CharField(_("rubrik"), max_length=200)
    decided_by = models.ForeignKey(
        "Forum",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("beslutad av"),
    )
    decided_on = models.DateField(_("beslutsdatum"), null=True, blank=True)
    source = models.CharField(_("källa"), max_length=300, blank=True)

    class Meta:
        ordering = ["-year", "managed_object__name"]
        constraints = [
            models.UniqueConstraint(fields=["managed_object", "year"], name="one_plan_per_object_year")
        ]
        verbose_name = _("förvaltningsplan")
        verbose_name_plural = _("förvaltningsplaner")

    def __str__(self) -> str:
        return self.title


class GoalCategory(models.TextChoices):
    MAINTAIN = "maintain", _("Vidmakthållande")
    NECESSARY = "necessary", _("Nödvändig vidareutveckling för att vidmakthålla")
    DEVELOP = "develop", _("Vidareutveckling")


class GoalStatus(models.TextChoices):
    PLANNED = "planned", _("Planerad")
    ONGOING = "ongoing", _("Pågår")
    DONE = "done", _("Genomförd")
    DELAYED = "delayed", _("Försenad")
    CANCELLED = "cancelled", _("Utgår")


class PlanGoal(models.Model):
    plan = models.ForeignKey(ManagementPlan, on_delete=models.CASCADE, related_name="goals")
    category = models.CharField(_("del"), max_length=10, choices=GoalCategory.choices)
    text = models.CharField(_("mål"), max_length=400)
    status = models.CharField(
        _("status"), max_length=10, choices=GoalStatus.choices, default=GoalStatus.PLANNED
    )
    status_note = models.CharField(_("kommentar"), max_length=400, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["plan", "category", "position", "pk"]
        verbose_name = _("mål")
        verbose_name_plural = _("mål")

    def __str__(self) -> str:
        return self.text


class GoalFollowUp(models.Model):
    """A follow-up of a goal during the year: its status then and a note."""

    goal = models.ForeignKey(PlanGoal, on_delete=models.CASCADE, related_name="follow_ups")
    at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=GoalStatus.choices)
    note = models.CharField(max_length=400, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["goal", "at"]

    def __str__(self) -> str:
        return f"{self.goal}: {self.status}"


class MandateArea(models.TextChoices):
    """What a forum may decide. A case names the area its decision belongs to; only a forum whose mandate
    holds that area may decide it (R-GOV-2)."""

    BUDGET = "budget", _("Budget och finansiering")
    NEW_ASSIGNMENT = "new_assignment", _("Tillkommande uppdrag och avvikelser utanför ram")
    WITHIN_FRAME = "within_frame", _("Beslut inom ram för förvaltningsuppdrag")
    GUIDELINE = "guideline", _("Länsgemensamma styrdokument")
    EDITORIAL = "editorial", _("Redaktionella revideringar av rutiner")
    PREPARATION = "preparation", _("Beredning (inget beslutsmandat)")


class Forum(models.Model):
    class Kind(models.TextChoices):
        DECISION = "decision", _("Beslutsforum")
        WORKING = "working", _("Arbetsforum")

    code = models.SlugField(_("kod"), max_length=40, unique=True)
    name = models.CharField(_("namn"), max_length=200)
    kind = models.CharField(_("typ"), max_length=10, choices=Kind.choices)
    mandate = models.TextField(_("mandat och uppgift"))
    meeting_frequency = models.CharField(_("mötesfrekvens"), max_length=120, blank=True)
    convener = models.CharField(_("sammankallande"), max_length=200, blank=True)
    requires_balance = models.BooleanField(
        _("jämn fördelning region/kommuner krävs"), default=False, help_text=_("Kontrolleras (R-GOV-3).")
    )
    source = models.CharField(_("källa"), max_length=300, blank=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("forum")
        verbose_name_plural = _("forum")

    def __str__(self) -> str:
        return self.name

    def has_mandate(self, area: str) -> bool:
        return self.mandates.filter(area=area).exists() and area != MandateArea.PREPARATION


class ForumMandate(models.Model):
    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="mandates")
    area = models.CharField(max_length=20, choices=MandateArea.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["forum", "area"], name="one_mandate_area_per_forum")]

    def __str__(self) -> str:
        return f"{self.forum}: {self.area}"


class Side(models.TextChoices):
    REGION = "region", _("Region (VGR)")
    MUNICIPAL = "municipal", _("Kommuner (VGK)")
    JOINT = "joint", _("Gemensam funktion (GITS)")


class ForumMember(models.Model):
    """A seat in a forum, by party. Demo data names seats by title, never by a real person's name."""

    class Role(models.TextChoices):
        CHAIR = "chair", _("Ordförande")
        VICE_CHAIR = "vice_chair", _("Vice ordförande")
        MEMBER = "member", _("Ledamot")
        DEPUTY = "deputy", _("Ersättare")
        ADJUNCT = "adjunct", _("Adjungerad")
        SECRETARY = "secretary", _("Sekreterare")

    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="members")
    title = models.CharField(_("uppdrag/titel"), max_length=200)
    side = models.CharField(_("part"), max_length=10, choices=Side.choices)
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subregion = models.ForeignKey(
        "organisations.Subregion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    role = models.CharField(_("roll"), max_length=12, choices=Role.choices, default=Role.MEMBER)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="forum_seats"
    )

    class Meta:
        ordering = ["forum", "role", "side", "title"]
        verbose_name = _("ledamot")
        verbose_name_plural = _("ledamöter")

    def __str__(self) -> str:
        return f"{self.forum}: {self.title}"

    @property
    def votes(self) -> bool:
        """Counted in the balance check: chairs and members, not deputies, adjuncts or secretaries."""
        return self.role in (self.Role.CHAIR, self.Role.VICE_CHAIR, self.Role.MEMBER)


class CaseState(models.TextChoices):
    INITIATIVE = "initiative", _("Initiativ")
    INVENTORY = "inventory", _("Behovsinventering")
    ASSIGNED = "assigned", _("Uppdrag")
    PREPARATION = "preparation", _("Beredning")
    CONSULTATION = "consultation", _("Remiss")
    DECIDED = "decided", _("Beslutat")
    IMPLEMENTATION = "implementation", _("Genomförande")
    DONE = "done", _("Genomfört")
    REJECTED = "rejected", _("Avslaget")
    PARKED = "parked", _("Parkerat")


class GovernanceCase(models.Model):
    """A need, change request or question on its way from initiative to decision and implementation."""

    class Kind(models.TextChoices):
        NEED = "need", _("Behov")
        CHANGE = "change", _("Ändringsönskemål")
        QUESTION = "question", _("Fråga")

    class Origin(models.TextChoices):
        USER = "user", _("Användare")
        SUBREGION = "subregion", _("Delregion")
        GITS = "gits", _("GITS")

    number = models.CharField(_("ärendenummer"), max_length=20, unique=True)
    kind = models.CharField(_("typ"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("rubrik"), max_length=200)
    description = models.TextField(_("beskrivning"))
    origin = models.CharField(_("ursprung"), max_length=10, choices=Origin.choices)
    origin_subregion = models.ForeignKey(
        "organisations.Subregion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_in_unit = models.ForeignKey(
        "organisations.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source_reference = models.CharField(
        _("väckt från"),
        max_length=120,
        blank=True,
        help_text=_("T.ex. ”samordningsärende”; inga personuppgifter."),
    )
    managed_object = models.ForeignKey(
        ManagedObject, on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    decision_area = models.CharField(
        _("beslutsområde"), max_length=20, choices=MandateArea.choices, default=MandateArea.WITHIN_FRAME
    )
    addressee = models.ForeignKey(
        Forum,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("adressat"),
    )
    state = models.CharField(
        _("status"), max_length=20, choices=CaseState.choices, default=CaseState.INITIATIVE
    )
    state_reason = models.TextField(_("motivering"), blank=True)
    endorsement_count = models.PositiveSmallIntegerField(
        _("antal delregioner som ställt sig bakom"), default=0
    )
    priority = models.PositiveIntegerField(_("prioritet"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-priority", "created_at"]
        verbose_name = _("förvaltningsärende")
        verbose_name_plural = _("förvaltningsärenden")

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class CaseEvent(models.Model):
    """Every state change of a case, with who, when and why."""

    case = models.ForeignKey(GovernanceCase, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    from_state = models.CharField(max_length=20, choices=CaseState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=CaseState.choices)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["case", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.case.number}: {self.from_state} → {self.to_state}"


class Endorsement(models.Model):
    """A delregion stands behind a case. One per delregion and case; the count weighs in the priority."""

    case = models.ForeignKey(GovernanceCase, on_delete=models.CASCADE, related_name="endorsements")
    subregion = models.ForeignKey("organisations.Subregion", on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    comment = models.CharField(max_length=400, blank=True)

    class Meta:
        ordering = ["case", "at"]
        constraints = [
            models.UniqueConstraint(fields=["case", "subregion"], name="one_endorsement_per_subregion")
        ]

    def __str__(self) -> str:
        return f"{self.case.number}: {self.subregion}"


class Meeting(models.Model):
    forum = models.ForeignKey(Forum, on_delete=models.PROTECT, related_name="meetings")
    starts_at = models.DateTimeField(_("mötet börjar"))
    location = models.CharField(_("plats"), max_length=200, blank=True)
    agenda_published_at = models.DateTimeField(null=True, blank=True)
    published_late = models.BooleanField(default=False)
    late_reason = models.TextField(_("skäl till sen publicering"), blank=True)
    minutes = models.TextField(_("mötesanteckningar"), blank=True)
    minutes_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("möte")
        verbose_name_plural = _("möten")

    def __str__(self) -> str:
        return f"{self.forum} {self.starts_at:%Y-%m-%d}"


class AgendaItem(models.Model):
    class Kind(models.TextChoices):
        DECISION = "decision", _("Beslutsärende")
        INFORMATION = "information", _("Information")
        PREPARATION = "preparation", _("Beredning")
        OTHER_BUSINESS = "other_business", _("Övriga frågor")

    forum = models.ForeignKey(Forum, on_delete=models.PROTECT, related_name="agenda_items")
    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, null=True, blank=True, related_name="items"
    )
    case = models.ForeignKey(
        GovernanceCase, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200)
    material = models.TextField(_("underlag"), blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    carried_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="carried_to"
    )
    outcome = models.TextField(blank=True)

    class Meta:
        ordering = ["meeting", "position", "pk"]

    def __str__(self) -> str:
        return self.title


class Decision(models.Model):
    """The decision log: every decision with its forum, meeting, case and outcome."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("Bifall")
        REJECTED = "rejected", _("Avslag")
        PARKED = "parked", _("Vilande")

    number = models.CharField(max_length=40, unique=True)
    forum = models.ForeignKey(Forum, on_delete=models.PROTECT, related_name="decisions")
    meeting = models.ForeignKey(
        Meeting, on_delete=models.PROTECT, null=True, blank=True, related_name="decisions"
    )
    case = models.ForeignKey(GovernanceCase, on_delete=models.PROTECT, related_name="decisions")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    text = models.TextField(_("beslut"))
    decided_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-decided_at"]
        verbose_name = _("beslut")
        verbose_name_plural = _("beslut")

    def __str__(self) -> str:
        return self.number


class Consultation(models.Model):
    """A remiss: a proposal sent to the delregioner and parties with a response deadline."""

    case = models.ForeignKey(GovernanceCase, on_delete=models.PROTECT, related_name="consultations")
    proposal = models.TextField(_("förslag"))
    sent_at = models.DateTimeField()
    deadline = models.DateField(_("svar senast"))
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    summary = models.TextField(_("sammanställning"), blank=True)

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("remiss")
        verbose_name_plural = _("remisser")

    def __str__(self) -> str:
        return f"{self.case.number} remiss {self.sent_at:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class ConsultationResponse(models.Model):
    class Answer(models.TextChoices):
        SUPPORT = "support", _("Tillstyrker")
        SUPPORT_WITH_COMMENTS = "support_comments", _("Tillstyrker med synpunkter")
        OPPOSE = "oppose", _("Avstyrker")
        NO_OPINION = "no_opinion", _("Avstår")

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="responses")
    recipient = models.CharField(_("remissinstans"), max_length=200)
    subregion = models.ForeignKey(
        "organisations.Subregion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    contact_email = models.EmailField(blank=True)
    answer = models.CharField(max_length=20, choices=Answer.choices, blank=True)
    comment = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["consultation", "recipient"]
        constraints = [
            models.UniqueConstraint(fields=["consultation", "recipient"], name="one_response_per_recipient")
        ]

    def __str__(self) -> str:
        return f"{self.consultation}: {self.recipient}"


class ServiceNotice(models.Model):
    """Service communication: a disruption notice or a release note ("what's new"), linked to the cases it
    delivers. Published notices appear on the public page and in the Atom feed, and are mailed to
    subscribers."""

    class Kind(models.TextChoices):
        DISRUPTION = "disruption", _("Driftstörning")
        PLANNED = "planned", _("Planerat underhåll")
        RELEASE = "release", _("Nyheter i ny version")

    kind = models.CharField(_("typ"), max_length=12, choices=Kind.choices)
    managed_object = models.ForeignKey(
        ManagedObject, on_delete=models.PROTECT, null=True, blank=True, related_name="notices"
    )
    title = models.CharField(_("rubrik"), max_length=200)
    body = models.TextField(_("text"))
    starts_at = models.DateTimeField(_("gäller från"), null=True, blank=True)
    ends_at = models.DateTimeField(_("gäller till"), null=True, blank=True)
    cases = models.ManyToManyField(
        GovernanceCase, blank=True, related_name="notices", verbose_name=_("ändringar")
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    mailed_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-published_at", "-pk"]
        verbose_name = _("driftinformation")
        verbose_name_plural = _("driftinformation")

    def __str__(self) -> str:
        return self.title


class NoticeSubscription(models.Model):
    """An e-mail subscription to published notices of some kinds. Unsubscribed by its secret token."""

    email = models.EmailField()
    kinds = models.CharField(max_length=60, help_text="Kommaseparerade typer")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["email"], name="one_subscription_per_email")]

    def __str__(self) -> str:
        return self.email

    @property
    def kind_list(self) -> list[str]:
        return [k for k in self.kinds.split(",") if k]


class ForumChange(models.Model):
    """Who changed a forum, its mandate areas or its seats through the pages, and what."""

    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="changes")
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=30)
    note = models.TextField(blank=True)  # every area or the member changed; a record is never cut

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.forum}: {self.action}"
