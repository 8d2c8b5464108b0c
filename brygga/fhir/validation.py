"""Every resource brygga accepts is parsed with the ``fhir.resources`` R4B models before anything else looks
at it, and every resource it emits is validated the same way in the tests (``validate``). R4B is
wire-compatible
with R4 for the resources used here (https://hl7.org/fhir/R4B/r4b-explanation.html)."""

from __future__ import annotations

import importlib
import json
from typing import Any

from django.http import HttpRequest
from pydantic import ValidationError

from brygga.fhir.outcome import FhirError, Issue

FHIR_CONTENT_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")
MAX_BODY = 1_000_000  # bytes; a stay or a task is a few kilobytes


def model_class(resource_type: str) -> Any:
    module = importlib.import_module(f"fhir.resources.R4B.{resource_type.lower()}")
    return getattr(module, resource_type)


def _path(resource_type: str, loc: tuple[Any, ...]) -> str:
    """pydantic's error location (JSON names, list indexes) as a FHIRPath: ``Encounter.class``,
    ``Encounter.identifier[0].system``."""
    path = resource_type
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def validate(resource: dict[str, Any]) -> Any:
    """The R4B model of ``resource`` or FhirError(422) naming every invalid element by its path."""
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str) or not resource_type:
        raise FhirError.single(422, "FHIR-RESURSTYP", "resourceType saknas.", "resourceType", "required")
    try:
        cls = model_class(resource_type)
    except (ImportError, AttributeError) as exc:
        raise FhirError.single(
            422, "FHIR-RESURSTYP", f"Okänd resurstyp {resource_type}.", "resourceType", "not-supported"
        ) from exc
    try:
        return cls.model_validate(resource)
    except ValidationError as exc:
        issues = [
            Issue(
                f"FHIR-{error['type']}",
                error["msg"],
                _path(resource_type, tuple(p for p in error["loc"] if p != resource_type)),
                "required" if error["type"] == "missing" else "structure",
            )
            for error in exc.errors()
        ]
        raise FhirError(422, issues) from exc


def read_body(request: HttpRequest, expected_type: str) -> dict[str, Any]:
    """The request's resource, checked for media type, JSON, the expected resource type and R4B validity."""
    content_type = request.content_type or ""
    if content_type not in FHIR_CONTENT_TYPES:
        raise FhirError.single(
            415,
            "FHIR-FORMAT",
            "Skicka resursen som application/fhir+json.",
            "",
            "not-supported",
        )
    if len(request.body) > MAX_BODY:
        raise FhirError.single(
            413, "FHIR-STORLEK", f"Resursen får vara högst {MAX_BODY} byte.", "", "too-costly"
        )
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise FhirError.single(400, "FHIR-JSON", f"Ogiltig JSON: {exc}", "", "structure") from exc
    if not isinstance(data, dict):
        raise FhirError.single(400, "FHIR-JSON", "Resursen ska vara ett JSON-objekt.", "", "structure")
    if data.get("resourceType") != expected_type:
        raise FhirError.single(
            422,
            "FHIR-RESURSTYP",
            f"Förväntade resurstypen {expected_type}, fick {data.get('resourceType')!r}.",
            "resourceType",
            "invalid",
        )
    validate(data)
    return data
