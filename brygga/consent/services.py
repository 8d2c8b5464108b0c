"""Consent, the physician's harm assessment, and the one decision on what may be shared (R-SEK-1..4).

``decide_disclosure`` is the single function that says whether a category of information about a person may
go from one unit to another, and on which legal basis. Everything that shares information across units in
this app (SIP summons, care requests, the CarePlan export) asks it, stores the basis it returned and shows
it.
Order of the decision, most specific first:

1. the admission-notice fields (name, identity number, address, expected discharge) always pass (R-SEK-3);
2. an active consent that EXCLUDES the receiving unit or the category refuses (R-SEK-4) — an exclusion the
   person stated wins over every other basis;
3. a unit of the same principal and the same secrecy area needs no consent (R-SEK-1: the secrecy boundary is
   between principals and between health care, social services and school);
4. an active consent naming the unit and the category (R-SEK-3);
5. an active documented assessment by the responsible physician naming them (R-SEK-3);
6. otherwise refused: R-SEK-3 when the consent that covered it was withdrawn, R-SEK-2 when there never was a
   basis."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.access.models import AccessLogEntry
from brygga.access.services import open_person, record_change
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.consent import rules
from brygga.consent.models import Consent, DisclosureAssessment
from brygga.core import statements
from brygga.core.errors import DomainError, PermissionDenied, Problem
from brygga.core.limits import length_problems
from brygga.organisations.models import Unit
from brygga.people.models import Person

FUTURE_TOLERANCE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Basis:
    """Why a piece of information may be shared: kind, the rule, a Swedish label and the record behind it."""

    kind: str  # admission_notice | same_principal | consent | assessment
    rule: str
    label: str
    ref: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"basis": self.kind, "rule": self.rule, "label": self.label, "ref": self.ref}


def secrecy_area(unit: Unit) -> str:
    """OSL 25 kap. (health care), 26 kap. (social services) and the school's secrecy are separate areas."""
    if unit.kind == Unit.Kind.SOCIAL_SERVICES:
        return "social_services"
    if unit.kind == Unit.Kind.SCHOOL:
        return "school"
    return "health"


def _party_ids(record: Consent | DisclosureAssessment) -> set[int]:
    return {u.pk for u in record.parties.all()}


class DisclosureRecords:
    """A person's consents and harm assessments as of ``now``, read once for several decisions (a page asks
    for every recipient and category; each decision used to read them again). The assessments are read only
    when a decision gets that far, as a single decision always did."""

    def __init__(self, person: Person, now: dt.datetime | None = None) -> None:
        self.person = person
        self.now = now or timezone.now()

    @cached_property
    def consents(self) -> list[Consent]:
        """The consents given by ``now``, with their parties and excluded parties."""
        # The decisions read only the parties' ids (_party_ids): the units are read as ids, not whole rows.
        ids = Unit.objects.only("pk")
        query = statements.reused(  # compiled once per process (ADR 0707)
            "disclosure_consents",
            lambda person_id: Consent.objects.filter(person_id=person_id).prefetch_related(
                Prefetch("parties", queryset=ids), Prefetch("excluded_parties", queryset=ids)
            ),
            person_id=self.person.pk,
        )
        return [c for c in query if c.given_at <= self.now]

    @cached_property
    def active(self) -> list[Consent]:
        return [c for c in self.consents if c.is_active(self.now)]

    @cached_property
    def assessments(self) -> list[DisclosureAssessment]:
        return statements.reused(
            "disclosure_assessments",
            lambda person_id: DisclosureAssessment.objects.filter(person_id=person_id).prefetch_related(
                Prefetch("parties", queryset=Unit.objects.only("pk"))
            ),
            person_id=self.person.pk,
        )


def decide_disclosure(
    person: Person,
    category: str,
    to_unit: Unit,
    from_unit: Unit,
    now: dt.datetime | None = None,
    records: DisclosureRecords | None = None,
) -> Basis:
    """The legal basis for giving ``category`` about ``person`` from ``from_unit`` to ``to_unit``, or a
    DomainError naming the rule that refuses it. ``records`` (of the same person and time) lets several
    decisions share one reading of the consents and assessments."""
    if records is None or records.person.pk != person.pk:
        records = DisclosureRecords(person, now)
    now = records.now
    if category not in rules.CATEGORIES:
        raise DomainError.single("category", "KATEGORI", _("Okänd uppgiftskategori."))
    if category in rules.ADMISSION_NOTICE_CATEGORIES:
        return Basis(
            "admission_notice", "R-SEK-3", _("Uppgift i inskrivningsmeddelandet (sekretess hindrar inte)")
        )
    consents = records.consents
    active = records.active
    for consent in active:
        if to_unit.pk in {u.pk for u in consent.excluded_parties.all()}:
            raise DomainError.single(
                "to_unit",
                "R-SEK-4",
                _("Personen har undantagit %(unit)s från samtycket.") % {"unit": to_unit.name},
                status=403,
            )
        if category in consent.excluded_categories:
            raise DomainError.single(
                "category",
                "R-SEK-4",
                _("Personen har undantagit uppgifter om %(category)s från samtycket.")
                % {"category": str(rules.CATEGORIES[category]).lower()},
                status=403,
            )
    if to_unit.principal.pk == from_unit.principal.pk and secrecy_area(to_unit) == secrecy_area(from_unit):
        return Basis("same_principal", "R-SEK-1", _("Samma huvudman och verksamhetsområde"))
    for consent in active:
        if to_unit.pk in _party_ids(consent) and category in consent.categories:
            given = (
                _("personen") if consent.given_by == Consent.GivenBy.PERSON else consent.representative_name
            )
            return Basis(
                "consent",
                "R-SEK-3",
                _("Samtycke lämnat %(date)s av %(who)s")
                % {"date": timezone.localtime(consent.given_at).strftime("%Y-%m-%d"), "who": given},
                consent.pk,
            )
    for assessment in records.assessments:
        if (
            assessment.is_active(now)
            and to_unit.pk in _party_ids(assessment)
            and category in assessment.categories
        ):
            return Basis(
                "assessment",
                "R-SEK-3",
                _("Menprövning av ansvarig läkare %(date)s")
                % {"date": timezone.localtime(assessment.assessed_at).strftime("%Y-%m-%d")},
                assessment.pk,
            )
    for consent in consents:
        if (
            consent.withdrawn_at is not None
            and consent.withdrawn_at <= now
            and to_unit.pk in _party_ids(consent)
            and category in consent.categories
        ):
            raise DomainError.single(
                "consent",
                "R-SEK-3",
                _(
                    "Samtycket återkallades %(date)s. Uppgiften får inte lämnas utan nytt samtycke "
                    "eller menprövning."
                )
                % {"date": timezone.localtime(consent.withdrawn_at).strftime("%Y-%m-%d")},
                status=403,
            )
    raise DomainError.single(
        "consent",
        "R-SEK-2",
        _("Det finns inget samtycke eller menprövning som tillåter att %(category)s lämnas till %(unit)s.")
        % {"category": str(rules.CATEGORIES[category]).lower(), "unit": to_unit.name},
        status=403,
    )


def may_disclose(
    person: Person,
    category: str,
    to_unit: Unit,
    from_unit: Unit,
    now: dt.datetime | None = None,
    records: DisclosureRecords | None = None,
) -> Basis | Problem:
    """The basis, or the refusal as a Problem — for showing a table of what may be shared."""
    try:
        return decide_disclosure(person, category, to_unit, from_unit, now, records)
    except DomainError as exc:
        return exc.problems[0]


def disclosure_overview(
    person: Person, from_unit: Unit, to_units: Iterable[Unit], categories: Iterable[str] = ()
) -> list[dict[str, object]]:
    """For the UI: per receiving unit and category, the legal basis or the rule that refuses it."""
    records = DisclosureRecords(person)
    cats = list(categories) or list(rules.PROTECTED_CATEGORIES)
    rows = []
    for unit in to_units:
        cells = []
        for category in cats:
            result = may_disclose(person, category, unit, from_unit, records=records)
            cells.append(
                {
                    "category": category,
                    "label": rules.CATEGORIES[category],
                    "basis": result if isinstance(result, Basis) else None,
                    "refusal": result if isinstance(result, Problem) else None,
                }
            )
        rows.append({"unit": unit, "cells": cells})
    return rows


# --- recording ----------------------------------------------------------------------------------------------


def _units(values: Iterable[Unit | int | str], field: str) -> list[Unit]:
    ids: list[int] = []
    units: list[Unit] = []
    for value in values:
        if isinstance(value, Unit):
            units.append(value)
            continue
        text = str(value).strip()
        if not text.isdecimal():
            raise DomainError.single(field, "OKAND-ENHET", _("Välj enheter ur listan."))
        ids.append(int(text))
    found = list(Unit.objects.filter(pk__in=ids, is_active=True))
    if len(found) != len(set(ids)):
        raise DomainError.single(field, "OKAND-ENHET", _("Välj enheter ur listan."))
    return units + found


def _require(actor: Actor, perm: Perm) -> None:
    if not actor.can(perm) or actor.unit is None:
        raise PermissionDenied(perm.value)


@transaction.atomic
def record_consent(
    actor: Actor,
    person: Person,
    *,
    given_by: str,
    form: str,
    purpose: str,
    parties: Iterable[Unit | int | str],
    categories: Iterable[str],
    exclusions_note: str,
    excluded_parties: Iterable[Unit | int | str] = (),
    excluded_categories: Iterable[str] = (),
    given_at: dt.datetime | None = None,
    representative_name: str = "",
    representative_relation: str = "",
    valid_until: dt.date | None = None,
) -> Consent:
    """Record who gave which consent to whom, and what it must not cover (R-SEK-3, R-SEK-4)."""
    _require(actor, Perm.CONSENT_RECORD)
    open_person(actor, person.pk, what="samtycke", action=AccessLogEntry.Action.UPDATE)
    now = timezone.now()
    given_at = given_at or now
    problems: list[Problem] = []
    if given_by not in Consent.GivenBy.values:
        problems.append(Problem("given_by", "R-SEK-3", _("Ange vem som lämnade samtycket.")))
    if given_by == Consent.GivenBy.REPRESENTATIVE and not representative_name.strip():
        problems.append(
            Problem("representative_name", "R-SEK-3", _("Ange namnet på den legala företrädaren."))
        )
    if form not in rules.CONSENT_FORMS:
        problems.append(Problem("form", "R-SEK-3", _("Ange om samtycket var muntligt eller skriftligt.")))
    if not purpose.strip():
        problems.append(Problem("purpose", "R-SEK-3", _("Ange syftet med samtycket.")))
    if given_at > now + FUTURE_TOLERANCE:
        problems.append(
            Problem("given_at", "DATUM-FRAMTID", _("Samtycket kan inte vara lämnat i framtiden."))
        )
    if valid_until is not None and valid_until < timezone.localdate(now):
        problems.append(Problem("valid_until", "DATUM-PASSERAT", _("Slutdatumet har redan passerat.")))
    cats = [c for c in dict.fromkeys(categories) if c]
    excluded_cats = [c for c in dict.fromkeys(excluded_categories) if c]
    if not cats:
        problems.append(Problem("categories", "R-SEK-3", _("Ange vilka uppgifter samtycket omfattar.")))
    if any(c not in rules.PROTECTED_CATEGORIES for c in cats + excluded_cats):
        problems.append(Problem("categories", "KATEGORI", _("Okänd uppgiftskategori.")))
    if set(cats) & set(excluded_cats):
        problems.append(
            Problem(
                "excluded_categories",
                "R-SEK-4",
                _("Samma uppgift kan inte både omfattas och vara undantagen."),
            )
        )
    problems += length_problems(
        {
            "purpose": (purpose.strip(), 200),
            "representative_name": (representative_name.strip(), 200),
            "representative_relation": (representative_relation.strip(), 100),
            "exclusions_note": (exclusions_note.strip(), 2000),
        }
    )
    if not exclusions_note.strip():
        problems.append(
            Problem(
                "exclusions_note",
                "R-SEK-4",
                _("Fråga personen vad samtycket inte ska omfatta och skriv svaret (även ”inget”)."),
            )
        )
    try:
        party_units = _units(parties, "parties")
        excluded_units = _units(excluded_parties, "excluded_parties")
    except DomainError as exc:
        problems += exc.problems
        party_units, excluded_units = [], []
    if not party_units and not any(p.field == "parties" for p in problems):
        problems.append(Problem("parties", "R-SEK-3", _("Ange till vilka enheter uppgifterna får lämnas.")))
    if {u.pk for u in party_units} & {u.pk for u in excluded_units}:
        problems.append(
            Problem(
                "excluded_parties", "R-SEK-4", _("Samma enhet kan inte både omfattas och vara undantagen.")
            )
        )
    if problems:
        raise DomainError(problems)
    assert actor.unit is not None
    consent = Consent.objects.create(
        person=person,
        given_by=given_by,
        representative_name=representative_name.strip(),
        representative_relation=representative_relation.strip(),
        form=form,
        given_at=given_at,
        purpose=purpose.strip(),
        categories=cats,
        excluded_categories=excluded_cats,
        exclusions_note=exclusions_note.strip(),
        valid_until=valid_until,
        recorded_by=actor.user,
        recorded_unit=actor.unit,
        recorded_at=now,
    )
    consent.parties.set(party_units)
    consent.excluded_parties.set(excluded_units)
    record_change(actor, person, f"samtycke:{consent.pk}", AccessLogEntry.Action.CREATE)
    return consent


@transaction.atomic
def withdraw_consent(
    actor: Actor, consent: Consent, note: str = "", at: dt.datetime | None = None
) -> Consent:
    """The person withdraws the consent (at any time, R-SEK-3); from ``at`` on it is no basis for anything."""
    # Need-to-know first: another unit's consent is "not found" whatever the role (issue 20 item 5), like
    # every other object that is not the unit's; only then may a role without the permission be told so.
    open_person(actor, consent.person_id, what=f"samtycke:{consent.pk}", action=AccessLogEntry.Action.UPDATE)
    _require(actor, Perm.CONSENT_RECORD)
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if consent.withdrawn_at is not None:
        raise DomainError.single("consent", "FEL-STATUS", _("Samtycket är redan återkallat."), status=409)
    now = timezone.now()
    at = at or now
    if at > now + FUTURE_TOLERANCE:
        raise DomainError.single("at", "DATUM-FRAMTID", _("Återkallelsen kan inte ligga i framtiden."))
    if at < consent.given_at:
        raise DomainError.single("at", "DATUM-ORDNING", _("Återkallelsen kan inte vara före samtycket."))
    assert actor.unit is not None
    consent.withdrawn_at = at
    consent.withdrawal_recorded_by = actor.user
    consent.withdrawal_unit = actor.unit
    consent.withdrawal_note = note.strip()[:500]
    consent.save(
        update_fields=["withdrawn_at", "withdrawal_recorded_by", "withdrawal_unit", "withdrawal_note"]
    )
    record_change(actor, consent.person, f"samtycke:{consent.pk}/återkallat")
    return consent


@transaction.atomic
def record_assessment(
    actor: Actor,
    person: Person,
    *,
    parties: Iterable[Unit | int | str],
    categories: Iterable[str],
    reasoning: str,
    valid_until: dt.date,
) -> DisclosureAssessment:
    """The responsible physician's menprövning: what may be disclosed to whom for necessary care, when the
    person cannot consent (R-SEK-1, R-SEK-3). Only physicians (Perm.DISCLOSURE_ASSESS)."""
    _require(actor, Perm.DISCLOSURE_ASSESS)
    open_person(actor, person.pk, what="menprövning", action=AccessLogEntry.Action.UPDATE)
    now = timezone.now()
    today = timezone.localdate(now)
    problems: list[Problem] = []
    cats = [c for c in dict.fromkeys(categories) if c]
    if not cats or any(c not in rules.PROTECTED_CATEGORIES for c in cats):
        problems.append(Problem("categories", "R-SEK-3", _("Ange vilka uppgifter bedömningen gäller.")))
    if not reasoning.strip():
        problems.append(Problem("reasoning", "R-SEK-1", _("Motivera bedömningen (menprövning).")))
    if valid_until < today:
        problems.append(Problem("valid_until", "DATUM-PASSERAT", _("Slutdatumet har redan passerat.")))
    elif valid_until > today + dt.timedelta(days=rules.ASSESSMENT_MAX_DAYS):
        problems.append(
            Problem(
                "valid_until",
                "R-SEK-3",
                _("En menprövning gäller den aktuella vården, högst %(days)s dagar.")
                % {"days": rules.ASSESSMENT_MAX_DAYS},
            )
        )
    try:
        units = _units(parties, "parties")
    except DomainError as exc:
        problems += exc.problems
        units = []
    if not units and not any(p.field == "parties" for p in problems):
        problems.append(Problem("parties", "R-SEK-3", _("Ange till vilka enheter uppgifterna får lämnas.")))
    if problems:
        raise DomainError(problems)
    assert actor.unit is not None
    assessment = DisclosureAssessment.objects.create(
        person=person,
        physician=actor.user,
        unit=actor.unit,
        assessed_at=now,
        categories=cats,
        reasoning=reasoning.strip(),
        valid_until=valid_until,
    )
    assessment.parties.set(units)
    record_change(actor, person, f"menprövning:{assessment.pk}", AccessLogEntry.Action.CREATE)
    return assessment


def consents_for(person: Person) -> list[Consent]:
    """Every consent of the person, newest first (the caller has already opened the person)."""
    return list(
        Consent.objects.filter(person=person)
        .select_related("recorded_by", "recorded_unit", "withdrawal_unit")
        .prefetch_related("parties", "excluded_parties")
    )


def consent_by_id(consent_id: int | str | None, person: Person | None = None) -> Consent | None:
    """A recorded consent by id (of ``person`` when given: one the caller has opened through ``open_person``).
    ``withdraw_consent`` checks need-to-know on its person before it changes anything."""
    pk = int(str(consent_id)) if str(consent_id or "").isdecimal() else 0
    found = Consent.objects.filter(pk=pk) if pk else Consent.objects.none()
    if person is not None:
        found = found.filter(person=person)
    return found.first()


def consents_for_answer(person: Person) -> list[Consent]:
    """The consents of a person the caller has opened (``open_person``), with their parties, oldest first."""
    return list(
        Consent.objects.filter(person=person)
        .select_related("recorded_unit")
        .prefetch_related("parties", "excluded_parties")
        .order_by("given_at", "pk")
    )
