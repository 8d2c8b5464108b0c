"""Summary tables of the process statistics. They hold exact aggregate counts per calendar month and per
dimension (the whole region, a delregion, a municipality, a hospital, a ward); no row names a person. The
refresh (brygga.statistics.refresh) replaces a month's rows as a whole; the pages, the CSV, the open data
and the API read only these tables and suppress small counts when they present them (suppression.py)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    REGION = "region", _("Västra Götaland")
    SUBREGION = "subregion", _("Delregion")
    MUNICIPALITY = "municipality", _("Kommun")
    SITE = "site", _("Sjukhus")
    UNIT = "unit", _("Avdelning")


# Upper bounds (inclusive) of the buckets for days from discharge-ready to discharge; the last is open.
DAY_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("days_0", 0, 0),
    ("days_1", 1, 1),
    ("days_2", 2, 2),
    ("days_3", 3, 3),
    ("days_4_7", 4, 7),
    ("days_8_14", 8, 14),
    ("days_15_plus", 15, None),
)


class MonthlyProcessStat(models.Model):
    """One month for one dimension. Each group of counts is anchored on the month its deciding event fell in:
    admission (notices), discharge (days from discharge-ready), the change (date moves), closing (closed
    cases), discharge-ready (SIP summons) and the meeting's start (meetings)."""

    month = models.DateField(_("månad"))  # the first day of the month
    level = models.CharField(_("nivå"), max_length=14, choices=Level.choices)
    key = models.CharField(_("nyckel"), max_length=40)  # "vg", delregion slug, SCB code, site id, HSA-id
    name = models.CharField(_("namn"), max_length=200)
    parent_key = models.CharField(
        max_length=40, blank=True
    )  # the delregion of a municipality, site of a ward

    # R-INS-2/3: admission notices, anchored on the admission month.
    admissions = models.PositiveIntegerField(default=0)
    notices_due = models.PositiveIntegerField(default=0)  # notice required and its deadline passed, or sent
    notices_on_time = models.PositiveIntegerField(default=0)
    notices_late = models.PositiveIntegerField(default=0)
    notices_missing = models.PositiveIntegerField(default=0)
    notices_pending = models.PositiveIntegerField(default=0)  # not sent, deadline still ahead

    # R-LAW-2: calendar days from discharge-ready to discharge, anchored on the discharge month.
    discharged = models.PositiveIntegerField(default=0)
    ready_discharged = models.PositiveIntegerField(default=0)  # discharged with a discharge-ready in force
    ready_days_sum = models.PositiveIntegerField(default=0)
    ready_days_median = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    days_0 = models.PositiveIntegerField(default=0)
    days_1 = models.PositiveIntegerField(default=0)
    days_2 = models.PositiveIntegerField(default=0)
    days_3 = models.PositiveIntegerField(default=0)
    days_4_7 = models.PositiveIntegerField(default=0)
    days_8_14 = models.PositiveIntegerField(default=0)
    days_15_plus = models.PositiveIntegerField(default=0)

    # R-INS-5: moves of the expected discharge date, anchored on the month of the change.
    date_moves = models.PositiveIntegerField(default=0)
    cases_moved = models.PositiveIntegerField(default=0)
    days_later = models.PositiveIntegerField(default=0)  # sum of days the date was moved later
    days_earlier = models.PositiveIntegerField(default=0)  # sum of days the date was moved earlier

    # Closed cases (not cancelled ones), anchored on the closing month.
    closed = models.PositiveIntegerField(default=0)
    closed_without_ready = models.PositiveIntegerField(default=0)
    closed_without_notice = models.PositiveIntegerField(default=0)

    # R-SIP-K-1: summons within 3 days of discharge-ready, anchored on the discharge-ready month.
    sip_due = models.PositiveIntegerField(default=0)
    sip_on_time = models.PositiveIntegerField(default=0)
    sip_late = models.PositiveIntegerField(default=0)
    sip_missing = models.PositiveIntegerField(default=0)
    sip_pending = models.PositiveIntegerField(default=0)

    # R-VG-PROC-2: planning meetings by form, anchored on the meeting's start.
    meetings = models.PositiveIntegerField(default=0)
    meetings_video = models.PositiveIntegerField(default=0)
    meetings_phone = models.PositiveIntegerField(default=0)
    meetings_on_site = models.PositiveIntegerField(default=0)

    # SIP (brygga.sip): plans started and first established, by month; follow-ups by due month; the level is
    # the person's registered municipality, and the hospital and ward of the discharge case when there is one.
    sips_started = models.PositiveIntegerField(default=0)
    sips_established = models.PositiveIntegerField(default=0)
    followups_due = models.PositiveIntegerField(default=0)  # due date passed (or done)
    followups_on_time = models.PositiveIntegerField(default=0)  # done on or before the due date
    # Öppenvård: care requests (vårdbegäran) by month sent, and how many have been answered / accepted.
    care_requests = models.PositiveIntegerField(default=0)
    care_requests_answered = models.PositiveIntegerField(default=0)
    care_requests_accepted = models.PositiveIntegerField(default=0)

    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["month", "level", "name"]
        constraints = [
            models.UniqueConstraint(fields=["month", "level", "key"], name="one_stat_per_month_level_key")
        ]
        indexes = [models.Index(fields=["level", "month"])]
        verbose_name = _("processtatistik per månad")
        verbose_name_plural = _("processtatistik per månad")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.level} {self.name}"


class DateMoveReason(models.Model):
    """Expected-date moves per month, dimension and coded reason (R-INS-5)."""

    month = models.DateField()
    level = models.CharField(max_length=14, choices=Level.choices)
    key = models.CharField(max_length=40)
    reason = models.CharField(max_length=40)
    moves = models.PositiveIntegerField(default=0)
    days_moved = models.PositiveIntegerField(default=0)  # sum of |new − old| in days

    class Meta:
        ordering = ["month", "level", "key", "reason"]
        constraints = [
            models.UniqueConstraint(
                fields=["month", "level", "key", "reason"], name="one_reason_per_month_level_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.key} {self.reason}"


class RefreshRun(models.Model):
    """One run of the refresh: which months it replaced, how many rows, and how long it took."""

    first_month = models.DateField()
    last_month = models.DateField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    rows = models.PositiveIntegerField()
    seconds = models.FloatField()

    class Meta:
        ordering = ["-finished_at"]

    def __str__(self) -> str:
        return f"{self.first_month:%Y-%m}–{self.last_month:%Y-%m} @ {self.finished_at:%Y-%m-%d %H:%M}"
