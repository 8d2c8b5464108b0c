"""The quarterly report to SITIV (seed 004, the 2011 mandate: "kvartalsvis rapportering till styrgruppen om
uppföljning av ekonomi, lägesredovisning kring respektive samverkanstjänst, utvecklingsaktiviteter,
avvikelser"), as a page and a PDF. Computed from stored data; nothing is written."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.core.errors import DomainError
from brygga.deviations.selectors import QuarterCounts, quarter_counts
from brygga.documents.pdf import PdfDocument, Section, render
from brygga.economy import services as economy
from brygga.economy.models import Budget, Outcome
from brygga.governance.models import (
    Consultation,
    Decision,
    Forum,
    GoalStatus,
    ManagedObject,
    ManagementPlan,
    Meeting,
    ServiceNotice,
)
from brygga.governance.services import forum_balance


@dataclass
class EconomyRow:
    budget: Budget
    budget_to_date: Decimal
    outcome_to_date: Decimal
    flags: list[str]

    @property
    def difference(self) -> Decimal:
        return self.budget_to_date - self.outcome_to_date


@dataclass
class ServiceRow:
    managed_object: ManagedObject
    goals: dict[str, int]
    notices: int


@dataclass
class QuarterlyReport:
    year: int
    quarter: int
    start: dt.date
    end: dt.date
    economy: list[EconomyRow] = field(default_factory=list)
    services: list[ServiceRow] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    consultations: list[Consultation] = field(default_factory=list)
    deviations: list[str] = field(default_factory=list)
    # Collaboration deviations (brygga.deviations), counts suppressed: the report goes to a forum.
    collaboration: QuarterCounts | None = None


def quarterly_report(year: int, quarter: int) -> QuarterlyReport:
    if quarter not in (1, 2, 3, 4):
        raise DomainError.single("quarter", "R-GOV-REPORT", _("Kvartalet ska vara 1–4."))
    start = dt.date(year, 3 * quarter - 2, 1)
    end = dt.date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1) - dt.timedelta(days=1)
    last_month = 3 * quarter
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, tz)
    until = dt.datetime.combine(end, dt.time.max, tz)
    report = QuarterlyReport(year, quarter, start, end)

    for budget in Budget.objects.filter(year=year).select_related("responsibility_object"):
        outcome = Outcome.objects.filter(line__budget=budget, month__lte=last_month).aggregate(
            s=Sum("amount")
        )["s"]
        flags = [f"{p.rule}: {p.message}" for p in economy.budget_problems(budget)]
        report.economy.append(
            EconomyRow(
                budget,
                (budget.total * last_month / 12).quantize(Decimal("0.01")),
                Decimal(outcome or 0).quantize(Decimal("0.01")),
                flags,
            )
        )
        report.deviations += [f"{budget.responsibility_object.name}: {f}" for f in flags]

    for obj in ManagedObject.objects.filter(status=ManagedObject.Status.CURRENT):
        plan = ManagementPlan.objects.filter(managed_object=obj, year=year).first()
        goals = {str(s.label): 0 for s in GoalStatus}
        if plan:
            for goal in plan.goals.all():
                goals[str(GoalStatus(goal.status).label)] += 1
        notices = ServiceNotice.objects.filter(
            managed_object=obj,
            kind=ServiceNotice.Kind.DISRUPTION,
            published_at__range=(since, until),
        ).count()
        report.services.append(ServiceRow(obj, goals, notices))

    report.decisions = list(
        Decision.objects.filter(decided_at__range=(since, until)).select_related("forum", "case")
    )
    report.consultations = list(
        Consultation.objects.filter(sent_at__range=(since, until)).select_related("case")
    )
    for meeting in Meeting.objects.filter(starts_at__range=(since, until), published_late=True):
        report.deviations.append(
            _("%(forum)s %(date)s: dagordningen publicerades senare än tre dagar före mötet (%(reason)s)")
            % {
                "forum": meeting.forum.name,
                "date": f"{meeting.starts_at:%Y-%m-%d}",
                "reason": meeting.late_reason,
            }
        )
    for forum in Forum.objects.filter(requires_balance=True):
        problem = forum_balance(forum).problem
        if problem:
            report.deviations.append(f"{forum.name}: {problem.message} ({problem.rule})")
    report.collaboration = quarter_counts(year, quarter)
    return report


def _kr(value: Decimal) -> str:
    return f"{value:,.2f}".replace(",", " ").replace(".", ",")


def report_pdf(report: QuarterlyReport) -> bytes:
    title = _("Kvartalsrapport till SITIV %(year)d kvartal %(q)d") % {
        "year": report.year,
        "q": report.quarter,
    }
    doc = PdfDocument(
        title=title,
        facts=[
            (_("Period"), f"{report.start:%Y-%m-%d} – {report.end:%Y-%m-%d}"),
            (_("Framtagen"), timezone.localtime().strftime("%Y-%m-%d %H:%M")),
        ],
        footer=_("Enligt uppdragshandlingen för SITIV: kvartalsvis rapportering från förvaltargruppen."),
    )
    doc.sections.append(
        Section(
            _("1. Uppföljning av ekonomi"),
            rows=[
                [_("Ansvarsobjekt"), _("Budget t.o.m. kvartalet"), _("Utfall"), _("Skillnad"), _("Flaggor")]
            ]
            + [
                [
                    r.budget.responsibility_object.name,
                    _kr(r.budget_to_date),
                    _kr(r.outcome_to_date),
                    _kr(r.difference),
                    str(len(r.flags)),
                ]
                for r in report.economy
            ],
        )
    )
    doc.sections.append(
        Section(
            _("2. Lägesredovisning per samverkanstjänst"),
            rows=[[_("Tjänst"), _("Mål per status"), _("Driftstörningar")]]
            + [
                [
                    s.managed_object.name,
                    ", ".join(f"{k}: {v}" for k, v in s.goals.items() if v) or "—",
                    str(s.notices),
                ]
                for s in report.services
            ],
        )
    )
    doc.sections.append(
        Section(
            _("3. Utvecklingsaktiviteter"),
            paragraphs=[
                f"{d.number} {d.forum.name}: {d.case.title} — {d.get_outcome_display()}: {d.text}"
                for d in report.decisions
            ]
            + [
                _("Remiss: %(title)s, svar senast %(date)s") % {"title": c.case.title, "date": c.deadline}
                for c in report.consultations
            ]
            or [_("Inga beslut eller remisser under kvartalet.")],
        )
    )
    collaboration = report.collaboration.lines() if report.collaboration else []
    doc.sections.append(
        Section(
            _("4. Avvikelser"),
            paragraphs=(collaboration or [_("Inga avvikelser i samverkan rapporterade under kvartalet.")])
            + (report.deviations or [_("Inga avvikelser i styrning och ekonomi.")]),
        )
    )
    return render(doc)
