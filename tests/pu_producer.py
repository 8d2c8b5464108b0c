"""A local producer of RIV-TA GetPersonsForProfile 5 for tests: a real SOAP 1.1 endpoint over HTTP on
127.0.0.1 (wsgiref in a thread) that validates each request against the contract's schemas and answers per the
contract. It plays Inera's personuppgiftstjänst (ADR 0500), as Microcks does in Inera's own tests.

Behaviour per requested number: a person in ``persons`` → a person record; ``fault`` → a SOAP fault; ``slow``
→ an answer after ``delay`` seconds (longer than the client's time-out); anything else → a response with the
requested identity and no person record (unknown number)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from lxml import etree
from lxml.builder import ElementMaker

CONTRACT = Path(__file__).resolve().parents[1] / "brygga" / "people" / "register" / "contract"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
RESPONDER = "urn:riv:strategicresourcemanagement:persons:person:GetPersonsForProfileResponder:5"
CORE = "urn:riv:strategicresourcemanagement:persons:person:5"
REGISTRY = "urn:riv:itintegration:registry:1"

S = ElementMaker(namespace=SOAP, nsmap={"soap": SOAP})
R = ElementMaker(namespace=RESPONDER, nsmap={"r": RESPONDER, "c": CORE})
C = ElementMaker(namespace=CORE)


@dataclass
class PuPerson:
    identifier: str
    given_name: str
    family_name: str
    street: str = ""
    postal_code: int | None = None
    city: str = ""
    county: str = ""
    municipality: str = ""
    protected: bool = False
    protected_population_record: bool | None = None
    deceased_on: str | None = None  # YYYY-MM-DD


@dataclass
class Producer:
    url: str = ""
    persons: dict[str, PuPerson] = field(default_factory=dict)
    fault: set[str] = field(default_factory=set)
    slow: set[str] = field(default_factory=set)
    delay: float = 3.0
    requests: list[dict[str, Any]] = field(default_factory=list)

    def add(self, person: PuPerson) -> None:
        self.persons[person.identifier] = person


def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(CONTRACT / "GetPersonsForProfileResponder_5.0.xsd")))


def _partial(date: str) -> tuple[etree._Element, etree._Element]:
    return C.format("YYYY-MM-DD"), C.value(date)


def _person_record(p: PuPerson) -> etree._Element:
    root = "1.2.752.129.2.1.3.3" if int(p.identifier[6:8]) > 60 else "1.2.752.129.2.1.3.1"
    children: list[Any] = [
        C.personalIdentity(C.root(root), C.extension(p.identifier)),
        C.protectedPersonIndicator("true" if p.protected else "false"),
    ]
    if p.protected_population_record is not None:
        children.append(C.protectedPopulationRecord("true" if p.protected_population_record else "false"))
    children += [
        C.testIndicator("true"),
        C.name(C.givenName(C.name(p.given_name)), C.surname(C.name(p.family_name))),
    ]
    if p.county:
        children.append(
            C.populationRegistrationLocality(C.countyCode(p.county), C.municipalityCode(p.municipality))
        )
    if p.street or p.city:
        address = [C.postalAddress1(p.street)]
        if p.postal_code is not None:
            address.append(C.postalCode(str(p.postal_code)))
        address.append(C.city(p.city))
        children.append(C.addressInformation(C.residentialAddress(*address)))
    if p.deceased_on:
        children.append(
            C.deregistration(C.deregistrationReasonCode("AV"), C.deregistrationDate(*_partial(p.deceased_on)))
        )
    return C.personRecord(*children)


def _app(producer: Producer, schema: etree.XMLSchema) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        envelope = etree.fromstring(environ["wsgi.input"].read(length))  # noqa: S320 - test input from zeep
        header = envelope.find(f"{{{SOAP}}}Header")
        body = envelope.find(f"{{{SOAP}}}Body")
        request = body[0] if body is not None and len(body) else None
        logical = header.findtext(f"{{{REGISTRY}}}LogicalAddress") if header is not None else None
        if request is None or not schema.validate(request) or not logical:
            return _fault(start_response, "Client", f"invalid request: {schema.error_log}")
        ids = [e.findtext(f"{{{CORE}}}extension") for e in request.findall(f"{{{RESPONDER}}}personId")]
        producer.requests.append(
            {
                "ids": ids,
                "profile": request.findtext(f"{{{RESPONDER}}}profile"),
                "logical_address": logical,
                "action": environ.get("HTTP_SOAPACTION", ""),
            }
        )
        if any(i in producer.fault for i in ids):
            return _fault(start_response, "Server", "PU: internt fel i tjänsteproducenten")
        if any(i in producer.slow for i in ids):
            time.sleep(producer.delay)
        records = []
        for i in ids:
            requested = C.requestedPersonalIdentity(C.root("1.2.752.129.2.1.3.1"), C.extension(i))
            person = producer.persons.get(i or "")
            records.append(
                R.requestedPersonRecord(requested, _person_record(person))
                if person
                else R.requestedPersonRecord(requested)
            )
        response = R.GetPersonsForProfileResponse(*records)
        assert schema.validate(response), schema.error_log
        body_bytes = etree.tostring(S.Envelope(S.Body(response)), xml_declaration=True, encoding="UTF-8")
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8")])
        return [body_bytes]

    return app


def _fault(start_response: Any, code: str, text: str) -> list[bytes]:
    fault = S.Envelope(S.Body(S.Fault(etree.Element("faultcode"), etree.Element("faultstring"))))
    fault_el = fault[0][0]
    fault_el[0].text = f"soap:{code}"
    fault_el[1].text = text
    start_response("500 Internal Server Error", [("Content-Type", "text/xml; charset=utf-8")])
    return [etree.tostring(fault, xml_declaration=True, encoding="UTF-8")]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


class _ThreadedServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@contextmanager
def running_producer() -> Iterator[Producer]:
    producer = Producer()
    server = make_server(
        "127.0.0.1", 0, _app(producer, _schema()), server_class=_ThreadedServer, handler_class=_QuietHandler
    )
    producer.url = f"http://127.0.0.1:{server.server_port}/GetPersonsForProfile/5/rivtabp21"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield producer
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
