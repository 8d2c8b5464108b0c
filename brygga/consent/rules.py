"""The vocabularies and parameters of consent and the physician's assessment (R-SEK-1..4), named once;
``brygga.sip.rules`` names them again for the SIP's pages."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# Information categories a consent or a physician's assessment (menprövning) covers. The first group are the
# admission-notice fields (R-INS-4), which secrecy does not stop (R-SEK-3); everything else needs a basis.
ADMISSION_NOTICE_CATEGORIES = {
    "identity": _("Namn och personnummer"),
    "address": _("Folkbokföringsadress"),
    "expected_discharge": _("Beräknad tidpunkt för utskrivning"),
}
PROTECTED_CATEGORIES = {
    "health": _("Hälsotillstånd och diagnoser"),
    "medications": _("Läkemedel"),
    "nursing": _("Omvårdnadsstatus"),
    "function": _("Funktionsförmåga och hjälpbehov"),
    "social": _("Social situation och boende"),
    "efforts": _("Pågående insatser"),
    "sip": _("SIP: behov, insatser och ansvar"),
    "school": _("Skola och elevhälsa"),
}
CATEGORIES = {**ADMISSION_NOTICE_CATEGORIES, **PROTECTED_CATEGORIES}

CONSENT_FORMS = {"verbal": _("Muntligt"), "written": _("Skriftligt")}

ASSESSMENT_MAX_DAYS = 90  # a menprövning is for the care at hand, not indefinite [U]
