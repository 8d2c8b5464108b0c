"""Issue 20 item 9 (the need-to-know sweep, ADR 0003/0801): every URL of the web UI and the API that takes the id
of something personal, asked by personas of other units for objects that are not theirs, answers 404 with
nothing of the object in the body, and the refusal is in the access log as a DENIED entry.

The routes are enumerated from Django's URL resolver (the API's from the same resolver, its methods from the
OpenAPI document), never listed by hand: a new id-taking route fails this test until it is either mapped to
an object kind below (and so swept) or exempted with the reason it holds nothing personal."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from brygga.access.models import AccessLogEntry, Involvement
from brygga.access.services import involve
from brygga.accounts.permissions import Role
from brygga.documents import attachments, backup, extracts, signed
from brygga.messaging import services as messaging
from tests.api_coverage import documented_operations
from tests.factories import OTHER_WARD, PRIMARY_CARE, WARD, actor, make_person, unit
from tests.test_messaging import auth, care_request, consent, noticed_case, summoned_sip

pytestmark = pytest.mark.django_db

HOME = "Göteborg hemsjukvård"
SECRET = "Zebrahemlighet"  # written into every object's text: must never appear in a refusal
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# Route (as Django spells it, without the leading slash and the converters) -> the kind of object its ids name. Matched in order;
# every id-taking route must match one of these or EXEMPT.
KINDS: list[tuple[str, str]] = [
    (r"^(api/v1/)?(arenden|cases)/<case_id>/messages/<message_id>/", "case_message"),
    (r"^(arenden|api/v1/cases|betalningsansvar/arende)/<case_id>", "case"),
    (r"^api/v1/sip/<pk>/messages/<message_id>", "sip_message"),
    (r"^api/v1/sip/<pk>/messages", "sip"),
    (r"^api/v1/sip/care-requests/<pk>/messages/<message_id>", "care_request_message"),
    (r"^api/v1/sip/care-requests/<pk>/messages", "care_request"),
    (r"^(api/v1/sip/care-requests|sip/vardbegaran)/<request_id>", "care_request"),
    (r"^api/v1/sip/consents/<consent_id>", "consent"),
    (r"^(api/v1/)?sip/<sip_id>", "sip"),
    (
        r"^(personer|dokument/person|sip/samtycke|api/v1/persons|api/v1/documents/persons)/<person_id>",
        "person",
    ),
    (r"^(dokument/bilaga|api/v1/documents/attachments)/<attachment_id>", "attachment"),
    (r"^(dokument|api/v1/documents/documents)/<document_id>", "document"),
    (r"^(dokument/version|api/v1/documents/versions)/<version_id>", "version"),
    (r"^(dokument/utdrag|api/v1/documents/extract-requests)/<request_id>", "extract_request"),
    (r"^(dokument/reservrutin|api/v1/documents/backups)/<snapshot_id>", "snapshot"),
]

# Id-taking routes that name nothing personal, with where their own scoping is tested.
EXEMPT: list[tuple[str, str]] = [
    (r"^admin/", "Django admin: staff only (ADR 0050), no patient data"),
    (r"^fhir/r4/", "FHIR facade: its own need-to-know sweep in tests/test_fhir.py (ADR 0600)"),
    (
        r"^(api/v1/)?(economy|ekonomi)/",
        "budgets and price lists of organisations (tests/test_economy_web.py)",
    ),
    (r"^(api/v1/payment|betalningsansvar)/", "settlements per municipality (tests/test_payment_web.py)"),
    (
        r"^forvaltning/",
        "governance cases, forums, meetings, reports: no patient data (tests/test_governance*.py)",
    ),
    (r"^statistik/", "published statistics levels (tests/test_statistics_web.py)"),
    (r"^avvikelser/", "collaboration deviations, scoped per unit (tests/test_deviations.py)"),
    (r"^(static|media)/", "files without ids of objects"),
    (
        r"^integration/prenumerationer/",
        "FHIR subscriptions of the admin's own principal, no patient data: another principal's answers 404 "
        "and changes nothing (tests/test_fhir_delivery_log.py)",
    ),
]

PARAMETER = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    pattern: str
    kind: str

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith("api/")


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def id_routes() -> tuple[list[Route], list[str]]:
    """Every route with a parameter, mapped to its kind; and those neither mapped nor exempt."""
    routes, unmapped = [], []
    for pattern in sorted(set(_walk(get_resolver().url_patterns))):
        if "<" not in pattern and "(?P" not in pattern:
            continue
        if any(re.search(rx, pattern) for rx, _why in EXEMPT):
            continue
        plain = re.sub(r"<\w+:(\w+)>", r"<\1>", pattern)  # the API's and the web's converters differ
        kind = next((k for rx, k in KINDS if re.search(rx, plain)), None)
        if kind is None:
            unmapped.append(pattern)
        else:
            routes.append(Route(pattern, kind))
    return routes, unmapped


def test_every_id_taking_route_is_swept_or_exempt_with_a_reason() -> None:
    routes, unmapped = id_routes()
    assert unmapped == [], "new id-taking routes: map them in KINDS (swept) or EXEMPT (with why)"
    assert len(routes) > 60


# --- the objects of WARD and PRIMARY_CARE that the strangers ask for ------------------------------------------


def _objects() -> dict[str, Any]:
    nurse = actor(Role.WARD_NURSE, WARD, "owner-nurse")
    vc = actor(Role.CARE_COORDINATOR, PRIMARY_CARE, "owner-vc")
    reviewer = actor(Role.LOG_REVIEWER, WARD, "owner-reviewer")
    case = noticed_case(nurse)
    receivers = case.participants.filter(status="active").exclude(role="ward").select_related("unit")
    from tests.factories import share_consent

    share_consent(nurse, case.person, [p.unit for p in receivers], categories=["health"])
    case_message = messaging.send_message(
        nurse, messaging.subject_for(case), body=SECRET, category="healthcare", title=SECRET
    )
    person = make_person("1480")
    involve(
        person,
        unit(PRIMARY_CARE),
        Involvement.Kind.OTHER,
        "test:listning",
        at=timezone.now() - dt.timedelta(days=30),
    )
    given = consent(vc, person)
    sip = summoned_sip(vc, person)
    sip_message = messaging.send_message(
        vc, messaging.subject_for(sip), body=SECRET, category="other", title=SECRET
    )
    request = care_request(vc, person)
    request_message = messaging.send_message(
        vc, messaging.subject_for(request), body=SECRET, category="other", title=SECRET
    )
    attachment = attachments.add_attachment(
        nurse, case.person.pk, "person", str(case.person.pk), ContentFile(PDF, "a.pdf")
    )
    version = signed.create_document(nurse, case.person.pk, "person", str(case.person.pk), SECRET, SECRET)
    extract = extracts.register_request(reviewer, case.person.identifier, "log", timezone.localdate())
    snapshot = backup.produce_snapshot(unit(WARD))
    return {
        "people": [case.person, person],
        "ids": {
            "case": {"case_id": case.pk},
            "case_message": {"case_id": case.pk, "message_id": case_message.pk},
            "sip": {"sip_id": sip.pk, "pk": sip.pk},
            "sip_message": {"pk": sip.pk, "message_id": sip_message.pk},
            "care_request": {"request_id": request.pk, "pk": request.pk},
            "care_request_message": {"pk": request.pk, "message_id": request_message.pk},
            "consent": {"consent_id": given.pk},
            "person": {"person_id": person.pk},
            "attachment": {"attachment_id": attachment.pk},
            "document": {"document_id": version.document_id},
            "version": {"version_id": version.pk},
            "extract_request": {"request_id": extract.pk},
            "snapshot": {"snapshot_id": snapshot.pk},
        },
    }


# Values for the parameters that are not ids (an action's name, a file format).
OTHER_VALUES = {"name": "message", "fmt": "csv"}


def _url(pattern: str, ids: dict[str, int]) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group("name")
        return str(ids[name]) if name in ids else OTHER_VALUES[name]

    return "/" + PARAMETER.sub(fill, pattern).replace("^", "").replace("$", "")


def _body(schema: dict[str, Any] | None, components: dict[str, Any]) -> dict[str, Any]:
    """The smallest body the API's schema accepts, so the request reaches the view (and its need-to-know check)
    instead of stopping at the schema check."""
    if not schema:
        return {}
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    values: dict[str, Any] = {}
    now = timezone.now()
    for name in schema.get("required", []):
        prop = schema["properties"][name]
        kind = prop.get("type") or next(
            (o.get("type") for o in prop.get("anyOf", []) if o.get("type")), "string"
        )
        fmt = prop.get("format")
        if "enum" in prop:
            values[name] = prop["enum"][0]
        elif fmt == "date-time":
            values[name] = (now + dt.timedelta(days=1)).isoformat()
        elif fmt == "date":
            values[name] = (now + dt.timedelta(days=1)).date().isoformat()
        else:
            values[name] = {
                "string": "x",
                "integer": 1,
                "number": 1,
                "boolean": True,
                "array": [],
                "object": {},
            }[kind]
    return values


def _missing(ids: dict[str, int]) -> dict[str, int]:
    return {name: value + 1_000_000 for name, value in ids.items()}


def _call(client: Client, method: str, url: str, body: dict[str, Any], is_api: bool) -> Any:
    if method == "GET":
        return client.get(url)
    if is_api:
        return getattr(client, method.lower())(url, body, content_type="application/json")
    return client.post(url, body)


STRANGERS = [
    (Role.WARD_NURSE, OTHER_WARD),
    (Role.CARE_COORDINATOR, "Borås kontaktpunkt"),
    (Role.LOG_REVIEWER, "Borås kontaktpunkt"),  # a ward's log reviewer reviews the whole region's requests
]


def test_strangers_get_404_nothing_of_the_object_and_a_logged_denial_on_every_id_taking_route(
    isolated_documents,
) -> None:  # type: ignore[no-untyped-def]
    from brygga.api.api import api

    routes, _unmapped = id_routes()
    made = _objects()
    people = made["people"]
    leaks = [SECRET] + [
        text for p in people for text in (p.identifier, p.formatted_identifier, p.family_name)
    ]
    document = api.get_openapi_schema(path_prefix="/api/v1")
    components = document["components"]["schemas"]
    operations = documented_operations()
    wrong: list[str] = []
    not_found = 0
    for role, unit_name in STRANGERS:
        stranger = actor(role, unit_name, username=f"stranger-{role.value}-{unit_name}"[:150])
        browser = Client()
        browser.force_login(stranger.user)
        token = Client(**auth(stranger))
        for route in routes:
            url = _url(route.pattern, made["ids"][route.kind])
            if route.is_api:
                calls = []
                for (method, api_route), label in operations.items():
                    if api_route != route.pattern:
                        continue
                    path, verb = label.split(" ", 1)[1], method.lower()
                    operation = document["paths"][path][verb]
                    content = operation.get("requestBody", {}).get("content", {})
                    schema = content.get("application/json", {}).get("schema")
                    calls.append((method, _body(schema, components)))
                client = token
            else:
                calls = [("GET", {}), ("POST", {})]
                client = browser
            refused = False
            for method, body in calls:
                label = f"{role.value}@{unit_name} {method} {url} ({route.kind})"
                before = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.DENIED).count()
                response = _call(client, method, url, body, route.is_api)
                if response.status_code == 405 and not route.is_api:
                    continue  # the page does not take this method at all
                if response.status_code == 403:
                    # A role without the permission is refused before any object is looked at: the same
                    # refusal for an id that does not exist, so it tells nothing about the object.
                    missing = _call(
                        client,
                        method,
                        _url(route.pattern, _missing(made["ids"][route.kind])),
                        body,
                        route.is_api,
                    )
                    if missing.status_code != 403:
                        wrong.append(
                            f"{label}: 403 here but {missing.status_code} for an id that does not exist"
                        )
                    leaked = [t for t in leaks if t and t in response.content.decode(errors="replace")]
                    if leaked:
                        wrong.append(f"{label}: refusal shows {leaked}")
                    refused = True  # refused, for every id alike
                    continue
                if response.status_code != 404:
                    wrong.append(f"{label}: {response.status_code}")
                    continue
                refused = True
                not_found += 1
                text = response.content.decode(errors="replace")
                leaked = [t for t in leaks if t and t in text]
                if leaked:
                    wrong.append(f"{label}: body shows {leaked}")
                denied = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.DENIED).order_by("-id")
                if denied.count() != before + 1 or denied[0].what != f"{method} {url}":
                    wrong.append(f"{label}: the refusal is not in the access log")
            if not refused:
                wrong.append(f"{role.value}@{unit_name} {url}: no method was refused")
    assert wrong == [], "\n".join(wrong)
    # Each stranger met a logged 404 on nearly every route (the rest refused by role, for every id alike).
    assert not_found > len(routes) * 2, not_found
