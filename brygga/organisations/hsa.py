"""HSA-id: the health sector's identifier for units and people (Inera's HSA catalogue).

Form: ``SE`` + the organisation number of the issuing principal (10 digits, Luhn-valid) + ``-`` + a local
extension of letters and digits, at most 31 characters in all, e.g. ``SE2321000131-E000000000001``."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from brygga.core.identifiers import luhn_checksum_ok

HSA_ID_RE = re.compile(r"^SE(?P<orgnr>\d{10})-(?P<ext>[A-Z0-9]{1,18})$")
HSA_RULE = "HSA-ID"


def normalise_hsa_id(value: str) -> str:
    return (value or "").strip().upper()


def hsa_id_problem(value: str) -> str | None:
    """The Swedish explanation of what is wrong with an HSA-id, or None if it is valid."""
    normalised = normalise_hsa_id(value)
    if not normalised:
        return _("HSA-id saknas.")
    if len(normalised) > 31:
        return _("Ett HSA-id får vara högst 31 tecken.")
    match = HSA_ID_RE.match(normalised)
    if not match:
        return _(
            "Ett HSA-id skrivs SE, organisationsnumrets tio siffror, bindestreck och ett tillägg av "
            "bokstäver och siffror, t.ex. SE2321000131-E000000000001."
        )
    if not luhn_checksum_ok(match["orgnr"]):
        return _("Organisationsnumret i HSA-id:t har fel kontrollsiffra.")
    return None


def validate_hsa_id(value: str) -> None:
    problem = hsa_id_problem(value)
    if problem:
        raise ValidationError(problem, code=HSA_RULE)
