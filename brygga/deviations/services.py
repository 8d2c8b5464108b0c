"""Every change to a deviation goes through here.

Rules (codes appear in every refusal):

- R-AVV-1    A report says what happened, not who was involved: no identity numbers in its texts
             (checked), and no link to the person's case (only a reference text).
- R-AVV-PART A deviation lies between two organisations: the receiving organisation is another principal than
             the reporting unit's.
- R-AVV-FLOW reported → received → under investigation → answered → closed. The receiving organisation moves
             it to answered; the reporting organisation closes it after the answer.
- R-AVV-FIELD Category, date (not in the future) and a description are required; an answer needs a text.
- R-AVV-4    Deadlines: received within BRYGGA_DEVIATION_RECEIVE_DAYS (5) and answered within
             BRYGGA_DEVIATION_ANSWER_DAYS (30) days of the report; shown, and overdue ones counted.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError, NotFound, Problem
from brygga.core.limits import limited
from brygga.deviations.models import Category, Deviation, DeviationEvent, DeviationState
from brygga.deviations.personal_data import personal_data_problems
from brygga.organisations.models import Organisation, Subregion

S = DeviationState

# Which side makes each move (R-AVV-FLOW).
RECEIVER_MOVES: dict[str, set[str]] = {
    S.REPORTED: {S.RECEIVED},
    S.RECEIVED: {S.INVESTIGATING},
    S.INVESTIGATING: {S.ANSWERED},
}
REPORTER_MOVES: dict[str, set[str]] = {S.ANSWERED: {S.CLOSED}}


def receive_days() -> int:
    return int(getattr(settings, "BRYGGA_DEVIATION_RECEIVE_DAYS", 5))


def answer_days() -> int:
    return int(getattr(settings, "BRYGGA_DEVIATION_ANSWER_DAYS", 30))


def _principal(org: Organisation) -> Organisation:
    return org.principal_or_self


def actor_principal(actor: Actor) -> Organisation | None:
    return actor.unit.principal if actor.unit else None


def is_receiver(actor: Actor, deviation: Deviation) -> bool:
    principal = actor_principal(actor)
    return principal is not None and principal.pk == deviation.receiving_organisation_id


def is_reporter(actor: Actor, deviation: Deviation) -> bool:
    principal = actor_principal(actor)
    return principal is not None and principal.pk == deviation.reporting_organisation_id


def receiving_choices(actor: Actor) -> list[Organisation]:
    """Principals a deviation can be addressed to: the region, the municipalities and private providers, not
    the actor's own."""
    own = actor_principal(actor)
    qs = Organisation.objects.filter(principal__isnull=True).exclude(
        kind__in=[Organisation.Kind.ASSOCIATION, Organisation.Kind.MUNICIPAL_COOPERATION]
    )
    if own is not None:
        qs = qs.exclude(pk=own.pk)
    return list(qs.order_by("kind", "name"))


def _subregion(reporting: Organisation, receiving: Organisation, fallback: Subregion) -> Subregion:
    """The delregion the deviation counts for: the municipal party's, else the reporting unit's."""
    for org in (receiving, reporting):
        municipality = (
            getattr(org, "municipality", None) if org.kind == Organisation.Kind.MUNICIPALITY else None
        )
        if municipality is not None:
            return municipality.subregion
    return fallback


def _next_number(year: int) -> str:
    prefix = f"AVV-{year}-"
    last = (
        Deviation.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


def parse_date(raw: dt.date | str, field: str) -> dt.date:
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat((raw or "").strip())
    except ValueError:
        raise DomainError.single(field, "R-AVV-FIELD", _("Ange ett datum, t.ex. 2026-03-05.")) from None


def report_deviation(
    actor: Actor,
    category: str,
    occurred_on: dt.date | str,
    receiving_organisation: Organisation | None,
    description: str,
    *,
    source_reference: str = "",
    at: dt.datetime | None = None,
) -> Deviation:
    """A user reports a deviation in the collaboration for their active unit. Refused whole, nothing written,
    on any problem; an identity number in the texts is refused with R-AVV-1."""
    actor.require(Perm.DEVIATION_REPORT)
    now = at or timezone.now()
    unit = actor.unit
    if unit is None:  # actor.require already needs a membership; kept for the type checker
        raise DomainError.single("unit", "R-AVV-FIELD", _("Välj en enhet."))
    problems: list[Problem] = []
    if category not in Category.values:
        problems.append(Problem("category", "R-AVV-FIELD", _("Välj en kategori.")))
    day: dt.date | None = None
    try:
        day = parse_date(occurred_on, "occurred_on")
    except DomainError as exc:
        problems += exc.problems
    if day is not None and day > timezone.localtime(now).date():
        problems.append(Problem("occurred_on", "R-AVV-FIELD", _("Datumet ligger i framtiden.")))
    reporting = unit.principal
    if receiving_organisation is None:
        problems.append(Problem("receiving_organisation", "R-AVV-PART", _("Välj mottagande organisation.")))
    elif _principal(receiving_organisation).pk == reporting.pk:
        problems.append(
            Problem(
                "receiving_organisation",
                "R-AVV-PART",
                _(
                    "En avvikelse i samverkan gäller en annan huvudman än din egen. "
                    "Avvikelser inom den egna organisationen rapporteras i den egna avvikelserutinen."
                ),
            )
        )
    if len(description.strip()) < 10:
        problems.append(Problem("description", "R-AVV-FIELD", _("Beskriv vad som hände med några meningar.")))
    problems += personal_data_problems({"description": description, "source_reference": source_reference})
    if problems:
        raise DomainError(problems)
    assert day is not None and receiving_organisation is not None
    receiving = _principal(receiving_organisation)
    today = timezone.localtime(now).date()
    with transaction.atomic():
        deviation = Deviation.objects.create(
            number=_next_number(today.year),
            category=category,
            occurred_on=day,
            reporting_unit=unit,
            reporting_organisation=reporting,
            receiving_organisation=receiving,
            subregion=_subregion(reporting, receiving, unit.municipality.subregion),
            description=description.strip(),
            source_reference=limited("source_reference", source_reference, 120),
            reported_at=now,
            reported_by=actor.user,
            receive_due=today + dt.timedelta(days=receive_days()),
            answer_due=today + dt.timedelta(days=answer_days()),
        )
        DeviationEvent.objects.create(
            deviation=deviation, at=now, by=actor.user, unit=unit, to_state=S.REPORTED
        )
    return deviation


def _refuse(deviation: Deviation, to_state: str) -> DomainError:
    return DomainError.single(
        "state",
        "R-AVV-FLOW",
        _("Avvikelsen kan inte gå från %(from)s till %(to)s.")
        % {"from": S(deviation.state).label, "to": S(to_state).label if to_state in S.values else to_state},
    )


def move(
    actor: Actor, deviation: Deviation, to_state: str, note: str = "", at: dt.datetime | None = None
) -> Deviation:
    """One step of the flow. The receiving organisation (DEVIATION_HANDLE) receives, investigates and answers
    (the answer text is ``note``); the reporting organisation closes. Someone who is neither party gets
    NotFound: they may not learn that the deviation exists."""
    if not (is_receiver(actor, deviation) or is_reporter(actor, deviation)):
        raise NotFound
    now = at or timezone.now()
    if to_state in RECEIVER_MOVES.get(deviation.state, set()):
        actor.require(Perm.DEVIATION_HANDLE)
        if not is_receiver(actor, deviation):
            raise DomainError.single(
                "state",
                "R-AVV-FLOW",
                _("Bara den mottagande organisationen utreder och besvarar avvikelsen."),
            )
    elif to_state in REPORTER_MOVES.get(deviation.state, set()):
        actor.require(Perm.DEVIATION_REPORT)
        if not is_reporter(actor, deviation):
            raise DomainError.single(
                "state", "R-AVV-FLOW", _("Den rapporterande organisationen avslutar avvikelsen efter svaret.")
            )
    else:
        raise _refuse(deviation, to_state)
    problems: list[Problem] = []
    if to_state == S.ANSWERED and len(note.strip()) < 10:
        problems.append(
            Problem("note", "R-AVV-FIELD", _("Skriv svaret: vad utredningen visade och vad som görs."))
        )
    problems += personal_data_problems({"note": note})
    if problems:
        raise DomainError(problems)
    assert actor.unit is not None
    with transaction.atomic():
        deviation.state = to_state
        fields = ["state"]
        if to_state == S.ANSWERED:
            deviation.answer, deviation.answered_at = note.strip(), now
            fields += ["answer", "answered_at"]
        if to_state == S.CLOSED:
            deviation.closed_at = now
            fields.append("closed_at")
        deviation.save(update_fields=fields)
        DeviationEvent.objects.create(
            deviation=deviation, at=now, by=actor.user, unit=actor.unit, to_state=to_state, note=note.strip()
        )
    return deviation
