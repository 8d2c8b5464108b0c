"""The vocabularies and parameters of consent, SIP and the outpatient process, named once. Parameters that
rules.md marks [U] are read from settings with the documented default."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils.translation import gettext_lazy as _

# The consent vocabularies live with consent; named here too for the SIP's pages and forms.
from brygga.consent.rules import ADMISSION_NOTICE_CATEGORIES as ADMISSION_NOTICE_CATEGORIES
from brygga.consent.rules import ASSESSMENT_MAX_DAYS as ASSESSMENT_MAX_DAYS
from brygga.consent.rules import CATEGORIES as CATEGORIES
from brygga.consent.rules import CONSENT_FORMS as CONSENT_FORMS
from brygga.consent.rules import PROTECTED_CATEGORIES as PROTECTED_CATEGORIES

# What a care request (vårdbegäran) asks municipal health care to take over.
CARE_REQUEST_EFFORTS = {
    "medication_administration": _("Läkemedelshantering och administrering"),
    "wound_care": _("Sårvård"),
    "injections": _("Injektioner"),
    "catheter": _("Kateter- eller stomivård"),
    "nutrition": _("Nutrition"),
    "rehabilitation": _("Rehabilitering (arbetsterapeut, fysioterapeut)"),
    "assistive_devices": _("Hjälpmedel"),
    "palliative": _("Palliativ vård"),
    "monitoring": _("Kontroller och provtagning"),
    "other": _("Annat"),
}

MEDICATION_RESPONSIBILITY = {
    "person": _("Personen själv"),
    "municipality": _("Kommunal hälso- och sjukvård"),
    "region": _("Regionen (vårdcentral eller mottagning)"),
}

DECLINE_REASONS = {
    "not_registered": _("Personen är inte folkbokförd i kommunen"),
    "can_visit_clinic": _("Personen kan ta sig till vårdcentralen"),
    "not_municipal_responsibility": _("Insatsen är inte kommunens ansvar enligt avtalet"),
    "person_declines": _("Personen tackar nej"),
    "other": _("Annat skäl"),
}

CLOSE_REASONS = {
    "goals_met": _("Målen är uppnådda"),
    "person_declines": _("Personen vill inte längre ha en SIP"),
    "needs_ended": _("Behov av insatser från båda huvudmännen finns inte längre"),
    "moved": _("Personen har flyttat"),
    "died": _("Personen har avlidit"),
    "other": _("Annat skäl"),
}

CHILD_AGE = 18  # R-VG-SIP-3: the children's and young people's SIP


def care_request_answer_deadline() -> dt.timedelta:
    """How long municipal health care has to answer a care request. Not found in public sources (rules.md,
    open question 5): a configurable local routine [U], default 24 hours."""
    return dt.timedelta(hours=getattr(settings, "BRYGGA_CARE_REQUEST_ANSWER_HOURS", 24))


DUE_SOON = dt.timedelta(days=2)

EVENT_LABELS = {
    "sip_started": _("SIP påbörjad (upptäck behov)"),
    "participant_added": _("Deltagare tillagd"),
    "participant_removed": _("Deltagare borttagen"),
    "summons_sent": _("Kallelse till SIP-möte skickad"),
    "meeting_held": _("SIP-möte hållet"),
    "draft_saved": _("Utkast sparat"),
    "plan_established": _("Planen fastställd"),
    "revision_started": _("Ny version påbörjad"),
    "follow_up_planned": _("Uppföljning planerad"),
    "follow_up_done": _("Uppföljning gjord"),
    "sip_closed": _("SIP avslutad"),
    "care_request_sent": _("Vårdbegäran skickad"),
    "care_request_accepted": _("Vårdbegäran accepterad"),
    "care_request_declined": _("Vårdbegäran avböjd"),
    "care_request_needs_info": _("Mer information behövs"),
    "care_request_supplemented": _("Vårdbegäran kompletterad"),
    "care_request_withdrawn": _("Vårdbegäran återtagen"),
    "care_request_linked_to_sip": _("Kopplad till SIP"),
    "message_sent": _("Meddelande skickat"),
}
