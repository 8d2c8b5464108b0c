"""Inera's personuppgiftstjänst (PU): RIV-TA GetPersonsForProfile 5 (RIVTABP21), called with zeep.

The WSDL and schemas under ``contract/`` describe the contract (version and source in ADR 0500); zeep builds
the request from them and parses the response against them, so no XML is written by hand here. In production
the call goes through the national service platform (NTjP) with the region's SITHS function certificate
(mutual TLS) and the producer's logical address in the SOAP header."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from lxml import etree
from zeep import Client, Settings
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault
from zeep.transports import Transport

from brygga.people.register.base import NotInRegister, RegisterRecord, RegisterUnavailable

log = logging.getLogger(__name__)

CONTRACT_DIR = Path(__file__).resolve().parent / "contract"
WSDL = CONTRACT_DIR / "GetPersonsForProfileInteraction_5.0_RIVTABP21.wsdl"
BINDING = (
    "{urn:riv:strategicresourcemanagement:persons:person:GetPersonsForProfile:5:rivtabp21}"
    "GetPersonsForProfileResponderBinding"
)
# OIDs of the identity kinds (RIV-TA / Skatteverket).
ROOT_PERSONNUMMER = "1.2.752.129.2.1.3.1"
ROOT_SAMORDNINGSNUMMER = "1.2.752.129.2.1.3.3"
PROFILE = "P2"  # base data, name, address, folkbokföring (what Inera's own intyg platform asks for)
DECEASED = "AV"  # deregistrationReasonCode: avliden


class PuRegister:
    source = "pu"

    def __init__(
        self,
        endpoint: str,
        logical_address: str,
        timeout: float = 5.0,
        client_cert: tuple[str, str] | None = None,
        ca_bundle: str | None = None,
    ) -> None:
        session = requests.Session()
        if client_cert:
            session.cert = client_cert
        if ca_bundle:
            session.verify = ca_bundle
        # ``timeout`` covers loading (local files, no network); ``operation_timeout`` every call.
        transport = Transport(session=session, timeout=timeout, operation_timeout=timeout)
        client = Client(str(WSDL), transport=transport, settings=Settings(strict=True, xml_huge_tree=False))
        self._service = client.create_service(BINDING, endpoint)
        self.logical_address = logical_address

    @classmethod
    def from_settings(cls) -> PuRegister:
        if not settings.BRYGGA_PU_ENDPOINT or not settings.BRYGGA_PU_LOGICAL_ADDRESS:
            raise ImproperlyConfigured(
                "BRYGGA_POPULATION_REGISTER=pu needs BRYGGA_PU_ENDPOINT and BRYGGA_PU_LOGICAL_ADDRESS."
            )
        cert = settings.BRYGGA_PU_CLIENT_CERT
        key = settings.BRYGGA_PU_CLIENT_KEY
        return cls(
            settings.BRYGGA_PU_ENDPOINT,
            settings.BRYGGA_PU_LOGICAL_ADDRESS,
            timeout=settings.BRYGGA_PU_TIMEOUT,
            client_cert=(cert, key) if cert and key else None,
            ca_bundle=settings.BRYGGA_PU_CA_BUNDLE or None,
        )

    def fetch(self, identifier: str) -> RegisterRecord:
        root = ROOT_SAMORDNINGSNUMMER if int(identifier[6:8]) > 60 else ROOT_PERSONNUMMER
        try:
            response = self._service.GetPersonsForProfile(
                personId=[{"root": root, "extension": identifier}],
                profile=PROFILE,
                ignoreReferredIdentity=False,
                _soapheaders={"LogicalAddress": self.logical_address},
            )
        except Fault as exc:
            raise RegisterUnavailable(f"SOAP fault: {exc.message}") from exc
        except requests.Timeout as exc:
            raise RegisterUnavailable("time-out") from exc
        except requests.RequestException as exc:
            raise RegisterUnavailable(f"connection: {exc.__class__.__name__}") from exc
        except (ZeepError, etree.XMLSyntaxError) as exc:
            raise RegisterUnavailable(f"unreadable reply: {exc}") from exc
        records = [r for r in (response.requestedPersonRecord or []) if r.personRecord is not None]
        if not records:
            raise NotInRegister(identifier)
        if len(records) > 1:
            # One id asked, several persons back: the contract calls that an error (never guess which).
            raise RegisterUnavailable("several person records for one identity")
        return _record(identifier, records[0].personRecord)


def _text(part: Any) -> str:
    return (part.name if part is not None else "") or ""


def _partial_date(value: Any) -> dt.date | None:
    if value is None or value.format != "YYYY-MM-DD":
        return None
    try:
        return dt.date.fromisoformat(value.value)
    except ValueError:
        return None


def _record(identifier: str, person: Any) -> RegisterRecord:
    name = person.name
    locality = person.populationRegistrationLocality
    municipality = None
    if locality is not None and locality.countyCode and locality.municipalityCode:
        municipality = f"{locality.countyCode}{locality.municipalityCode}"
    address = person.addressInformation.residentialAddress if person.addressInformation else None
    street = ""
    postal_code = ""
    city = ""
    if address is not None:
        street = ", ".join(p for p in (address.careOf, address.postalAddress1, address.postalAddress2) if p)
        postal_code = f"{address.postalCode:05d}" if address.postalCode is not None else ""
        city = address.city or ""
    deceased_on = None
    dereg = person.deregistration
    if dereg is not None and dereg.deregistrationReasonCode == DECEASED:
        deceased_on = _partial_date(dereg.deregistrationDate) or _partial_date(dereg.foundDeadAtDate)
        if deceased_on is None:
            log.warning("PU: deceased without a full date; brygga records the death without a day")
    return RegisterRecord(
        identifier=identifier,
        given_name=_text(name.givenName) if name is not None else "",
        family_name=_text(name.surname) if name is not None else "",
        street_address=street,
        postal_code=postal_code,
        city=city,
        municipality_code=municipality,
        protected_identity=bool(person.protectedPersonIndicator) or bool(person.protectedPopulationRecord),
        deceased_on=deceased_on,
        test_indicator=bool(person.testIndicator),
    )
