"""What every population-register implementation returns and raises."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class RegisterRecord:
    """One person as the register states it (profile P2: name, address, folkbokföring, protection, death)."""

    identifier: str  # canonical, 12 digits
    given_name: str
    family_name: str
    street_address: str = ""
    postal_code: str = ""
    city: str = ""
    # SCB's four-digit kommunkod (county code + municipality code), None when not registered in Sweden.
    municipality_code: str | None = None
    # Sekretessmarkering or skyddad folkbokföring: either makes the identity protected.
    protected_identity: bool = False
    deceased_on: dt.date | None = None
    test_indicator: bool = False


class RegisterError(Exception):
    """Base of what a register look-up can raise."""


class NotInRegister(RegisterError):
    """The register answered: it has no person with this number."""


class RegisterUnavailable(RegisterError):
    """The register did not answer usefully: time-out, refused connection, SOAP fault, unreadable reply."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PopulationRegister(Protocol):
    #: Recorded on the person as where its data came from ("pu", "file").
    source: str

    def fetch(self, identifier: str) -> RegisterRecord:
        """The person with this canonical number; raises NotInRegister or RegisterUnavailable."""
        ...


def get_register() -> PopulationRegister | None:
    """The configured register, or None when fetching is off (``BRYGGA_POPULATION_REGISTER=none``)."""
    kind = settings.BRYGGA_POPULATION_REGISTER
    if kind in ("", "none"):
        return None
    if kind == "file":
        from brygga.people.register.file import FileRegister

        return FileRegister(settings.BRYGGA_POPULATION_REGISTER_FILE)
    if kind == "pu":
        return _pu_register(
            settings.BRYGGA_PU_ENDPOINT,
            settings.BRYGGA_PU_LOGICAL_ADDRESS,
            settings.BRYGGA_PU_TIMEOUT,
            settings.BRYGGA_PU_CLIENT_CERT,
            settings.BRYGGA_PU_CLIENT_KEY,
            settings.BRYGGA_PU_CA_BUNDLE,
        )
    raise ImproperlyConfigured(f"BRYGGA_POPULATION_REGISTER={kind!r}: use pu, file or none.")


@functools.lru_cache(maxsize=4)
def _pu_register(*configuration: object) -> PopulationRegister:
    """One zeep client per configuration: building it parses the WSDL (about 60 ms), a call takes far less."""
    from brygga.people.register.pu import PuRegister

    return PuRegister.from_settings()
