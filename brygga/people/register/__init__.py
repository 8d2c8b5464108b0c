"""The population register (folkbokföring) behind one small interface (ADR 0500).

Two implementations: ``pu`` — Inera's personuppgiftstjänst, the RIV-TA SOAP contract GetPersonsForProfile 5,
called with zeep — and ``file`` — a local JSON file for development and the demo.
``BRYGGA_POPULATION_REGISTER``
chooses; ``none`` turns fetching off.

The public entry point for other apps (the FHIR façade, the admission form) is :func:`find_or_fetch`.
"""

from __future__ import annotations

from brygga.people.register.base import (
    NotInRegister,
    PopulationRegister,
    RegisterRecord,
    RegisterUnavailable,
    get_register,
)
from brygga.people.register.sync import find_or_fetch, refresh_person, refresh_stale_persons

__all__ = [
    "NotInRegister",
    "PopulationRegister",
    "RegisterRecord",
    "RegisterUnavailable",
    "find_or_fetch",
    "get_register",
    "refresh_person",
    "refresh_stale_persons",
]
