"""The vocabularies and parameters of the admission and discharge process, named once: coded reasons, the
planning basis questions, the nursing-status areas and the discharge checklist. Parameters marked [U] in
rules.md are read from settings with the documented default."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

# R-INS-2, R-INS-3: 24 elapsed hours (not calendar days) from admission, or from the later assessment. The
# one home of this parameter: the case model, the batch ingest, the inbox and statistics read it from here,
# at call time, so a test that changes it sees every consumer follow.
NOTICE_DEADLINE = dt.timedelta(hours=24)


def notice_due_at(need_assessed_at: dt.datetime) -> dt.datetime:
    """R-INS-2/3: when the admission notice is due."""
    return need_assessed_at + NOTICE_DEADLINE


def notice_rule(admitted_at: dt.datetime | None, need_assessed_at: dt.datetime | None) -> str:
    """Which rule sets the notice deadline: R-INS-2 counts from admission, R-INS-3 from a later assessment."""
    return "R-INS-2" if need_assessed_at == admitted_at else "R-INS-3"


def sip_summons_deadline() -> dt.timedelta:
    """R-SIP-K-1: "tre dagar", calendar days [U] — configurable, default 3."""
    return dt.timedelta(days=getattr(settings, "BRYGGA_SIP_SUMMONS_DEADLINE_DAYS", 3))


def acknowledgement_deadline() -> dt.timedelta:
    """How long a receiving unit may leave a notification unacknowledged before it is escalated. No source
    sets this (rules.md, open question 4); a configurable local routine, default 24 hours."""
    return dt.timedelta(hours=getattr(settings, "BRYGGA_ACK_DEADLINE_HOURS", 24))


DUE_SOON = dt.timedelta(hours=12)

ANSWERS = {"ja": _("Ja"), "nej": _("Nej"), "vet_ej": _("Vet ej")}

REJECTION_REASONS = {
    "not_registered": _("Personen är inte folkbokförd i kommunen"),
    "not_listed": _("Personen är inte listad på vårdcentralen"),
    "wrong_unit": _("Fel enhet"),
    "other": _("Annat skäl"),
}

EXPECTED_DATE_REASONS = {
    "medical_condition": _("Förändrat medicinskt tillstånd"),
    "awaiting_examination": _("Väntar på undersökning eller provsvar"),
    "complication": _("Komplikation"),
    "treatment_faster": _("Behandlingen gick snabbare än beräknat"),
    "municipal_planning": _("Kommunens planering är inte klar"),
    "primary_care_planning": _("Vårdcentralens planering är inte klar"),
    "patient_wish": _("Patientens eller närståendes önskemål"),
    "initial_estimate_wrong": _("Första bedömningen var felaktig"),
    "other": _("Annat skäl"),
}

CANCEL_REASONS = {
    "wrong_person": _("Fel person"),
    "wrong_stay": _("Fel vårdtillfälle"),
    "entered_in_error": _("Registrerat av misstag"),
    "discharge_did_not_happen": _("Utskrivningen blev inte av"),
    "other": _("Annat skäl"),
}

# The planning basis (planeringsunderlag): every question is mandatory, "vet ej" is an explicit answer.
PLANNING_QUESTIONS = {
    "lives_alone": _("Bor ensam"),
    "home_care_before": _("Hade hemtjänst före inskrivningen"),
    "home_health_before": _("Hade kommunal hemsjukvård före inskrivningen"),
    "aids_needed": _("Behöver hjälpmedel vid hemgång"),
    "cognitive_impairment": _("Kognitiv svikt"),
    "relatives_informed": _("Närstående informerade om vårdtiden"),
}

# Needs per receiver after discharge (R-LAW-1, R-PLAN-1). Both principals' needs → SIP summons (R-SIP-K-1).
NEEDS = {
    "social_services": _("Socialtjänst (t.ex. hemtjänst, boende)"),
    "municipal_health": _("Kommunal hälso- och sjukvård (hemsjukvård, rehabilitering)"),
    "primary_care": _("Regionfinansierad öppenvård (vårdcentral)"),
}
MUNICIPAL_NEEDS = ("social_services", "municipal_health")

NURSING_AREAS = {
    "elimination": _("Elimination"),
    "pain": _("Smärta"),
    "nutrition": _("Nutrition och aptit"),
    "psychosocial": _("Psykosocialt"),
    "mobility": _("Rörlighet och förflyttning"),
    "skin": _("Hud och sår"),
    "sleep": _("Sömn"),
    "cognition": _("Kognition och kommunikation"),
}


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    rule: str
    blocking: bool  # True: the guarded step is refused until done; False: a warning shown at the step
    manual: bool  # True: ticked by a user; False: derived from the case's structured state


# The checklist for a safe discharge, inside the flow: it guards the discharge step.
CHECKLIST = [
    ChecklistItem("discharge_info", str(_("Information vid utskrivning skickad")), "R-UTS-1", True, False),
    ChecklistItem(
        "patient_summary", str(_("Skriftlig sammanfattning till patienten")), "R-UTS-2", True, False
    ),
    ChecklistItem("planning_basis", str(_("Planeringsunderlag ifyllt")), "R-PLAN-1", False, False),
    ChecklistItem("coordinator", str(_("Fast vårdkontakt utsedd av vårdcentralen")), "R-FVK-1", False, False),
    ChecklistItem("sip_summons", str(_("Kallelse till SIP skickad")), "R-SIP-K-1", False, False),
    ChecklistItem(
        "patient_informed", str(_("Patienten informerad om beräknad utskrivning")), "R-INS-6", False, True
    ),
    ChecklistItem(
        "medication_list", str(_("Läkemedelslista genomgången och bifogad")), "CHECKLISTA", False, True
    ),
    ChecklistItem("sip_offered", str(_("SIP erbjuden och svaret registrerat")), "R-SIP-K-2", False, True),
    ChecklistItem(
        "aids_ordered", str(_("Hjälpmedel beställda eller inte behövs")), "CHECKLISTA", False, True
    ),
    ChecklistItem("transport", str(_("Hemtransport ordnad")), "CHECKLISTA", False, True),
]
MANUAL_CHECKLIST_KEYS = {item.key for item in CHECKLIST if item.manual}
