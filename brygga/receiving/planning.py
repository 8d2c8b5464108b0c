"""The ward's planning basis as the receiving units read it (R-UK-1, R-SEK-1..4, ADR 0900).

The basis is split into sections, each one information category of ``brygga.sip.rules``. A section is shown
to a unit only where ``brygga.consent.services.decide_disclosure`` — the one decision messages use — gives a
basis for that category from the ward to the unit; otherwise the section is withheld and the page says which
rule withholds it. The first time a unit reads a section its content is remembered (``PlanningRead``), so
what the ward changes later is marked for that unit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from brygga.cases import rules
from brygga.cases.models import Case, PlanningBasis
from brygga.cases.services.common import planning_basis_of
from brygga.consent.services import Basis, DisclosureRecords, may_disclose
from brygga.core import statements
from brygga.core.errors import Problem
from brygga.organisations.models import Unit
from brygga.receiving.models import PlanningRead, ReceiverPlan

# Section key → (title, information category that the disclosure decision is asked about).
SECTIONS: dict[str, tuple[object, str]] = {
    "situation": (_l("Boende och insatser före inskrivningen"), "social"),
    "needs": (_l("Behov efter utskrivning"), "function"),
    "nursing": (_l("Omvårdnadsstatus"), "nursing"),
    "medications": (_l("Läkemedelslista"), "medications"),
}
RECEIVER_PLAN_CATEGORY = "efforts"


@dataclass
class Item:
    key: str
    label: str
    text: str
    changed: bool = False
    before: str = ""


@dataclass
class Section:
    key: str
    title: str
    category: str
    basis: Basis | None = None
    refusal: Problem | None = None
    items: list[Item] = field(default_factory=list)

    @property
    def shown(self) -> bool:
        return self.basis is not None

    @property
    def changed(self) -> bool:
        return any(i.changed for i in self.items)


def _content(planning: PlanningBasis) -> dict[str, list[Item]]:
    """The planning basis as plain text per section and item (what is compared for changes)."""
    answer = {k: str(v) for k, v in rules.ANSWERS.items()}
    needs = []
    for key, label in rules.NEEDS.items():
        need = planning.needs.get(key, {})
        text = answer.get(need.get("answer", ""), "—")
        if need.get("text"):
            text += f": {need['text']}"
        needs.append(Item(key, str(label), text))
    return {
        "situation": [
            Item(k, str(label), answer.get(planning.answers.get(k, ""), "—"))
            for k, label in rules.PLANNING_QUESTIONS.items()
        ],
        "needs": needs,
        "nursing": [
            Item(k, str(label), planning.nursing_status.get(k, "").strip() or "—")
            for k, label in rules.NURSING_AREAS.items()
        ],
        "medications": [Item("list", _("Läkemedel"), planning.medications.strip() or "—")],
    }


def sections_for(
    case: Case, unit: Unit, now: dt.datetime | None = None, record: bool = True
) -> list[Section]:
    """The planning basis for ``unit``, section by section: content where the disclosure decision allows it
    (from the case's ward), else the refusal. With ``record`` the unit's first read of each permitted
    section is remembered and changes since then are marked."""
    planning = planning_basis_of(case)
    if planning is None:
        return []
    now = now or timezone.now()
    content = _content(planning)
    own = unit.pk == case.ward_id
    records = DisclosureRecords(case.person, now)  # one reading of the consents for every section
    sections = []
    for key, (title, category) in SECTIONS.items():
        section = Section(key, str(title), category)
        if own:
            section.basis = Basis("own", "", _("Er egen dokumentation"))
        else:
            result = may_disclose(case.person, category, unit, case.ward, records=records)
            if isinstance(result, Basis):
                section.basis = result
            else:
                section.refusal = result
        if section.shown:
            section.items = content[key]
        sections.append(section)
    if record and not own:
        _mark_changes(case, unit, sections, now)
    return sections


@transaction.atomic
def _mark_changes(case: Case, unit: Unit, sections: list[Section], now: dt.datetime) -> None:
    read, created = PlanningRead.objects.select_for_update().get_or_create(
        case=case, unit=unit, defaults={"first_read_at": now, "last_read_at": now, "snapshot": {}}
    )
    snapshot = dict(read.snapshot)
    grew = False
    for section in sections:
        if not section.shown:
            continue
        seen = snapshot.get(section.key)
        if seen is None:
            snapshot[section.key] = {i.key: i.text for i in section.items}
            grew = True
            continue
        for item in section.items:
            if item.key in seen and seen[item.key] != item.text:
                item.changed, item.before = True, seen[item.key]
    read.last_read_at = now
    if grew:
        read.snapshot = snapshot
    read.save(update_fields=["last_read_at", "snapshot"])


def receiver_plans_for(case: Case, unit: Unit, now: dt.datetime | None = None) -> list[dict[str, object]]:
    """The receiving units' own planning, for ``unit``: its own plan and the ward's view always within the
    disclosure decision for the category "efforts" (from the planning unit to the reader)."""
    now = now or timezone.now()
    records = DisclosureRecords(case.person, now)
    rows: list[dict[str, object]] = []
    plans = statements.reused(  # the same text for every case: compiled once per process (ADR 0707)
        "receiver_plans_for",
        lambda case_id: ReceiverPlan.objects.filter(case_id=case_id).select_related("unit", "updated_by"),
        case_id=case.pk,
    )
    for plan in plans:
        if plan.unit_id == unit.pk:
            rows.append({"plan": plan, "basis": None, "refusal": None, "own": True})
            continue
        result = may_disclose(case.person, RECEIVER_PLAN_CATEGORY, unit, plan.unit, records=records)
        rows.append(
            {
                "plan": plan if isinstance(result, Basis) else None,
                "unit": plan.unit,
                "basis": result if isinstance(result, Basis) else None,
                "refusal": result if isinstance(result, Problem) else None,
                "own": False,
            }
        )
    return rows
