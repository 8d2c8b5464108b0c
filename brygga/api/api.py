"""The versioned JSON API, /api/v1/, with its OpenAPI document at /api/v1/openapi.json.

Errors are structured and name the field and the rule:
``{"error": "invalid", "problems": [{"field": "...", "rule": "...", "message": "..."}]}``."""

from __future__ import annotations

import re
from typing import Any

from csp.decorators import csp_exempt
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import OpenAPISchema

from brygga.access.person_api import router as people_router
from brygga.accounts.api_auth import AUTH
from brygga.cases.api import router as cases_router
from brygga.core.errors import DomainError, NotFound, PermissionDenied
from brygga.deviations.api import router as deviations_router
from brygga.documents.api import router as documents_router
from brygga.economy.api import router as economy_router
from brygga.fhir.careplan import add_careplan_route
from brygga.governance.api import router as governance_router
from brygga.organisations.api import router as organisations_router
from brygga.payment.api import router as payment_router
from brygga.sip.api import router as sip_router
from brygga.statistics.api import router as statistics_router

ERROR_SCHEMA_NAME = "Error"
ERROR_SCHEMA: dict[str, Any] = {
    "title": ERROR_SCHEMA_NAME,
    "description": "Ett avvisat anrop: vilket fält och vilken regel det gäller, med ett meddelande.",
    "type": "object",
    "properties": {
        "error": {"type": "string", "enum": ["invalid", "not_found", "forbidden", "unauthenticated"]},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "rule": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["field", "rule", "message"],
            },
        },
    },
    "required": ["error", "problems"],
}
# Answers any operation can give, whatever it declares: a refused input (400, the input middleware), no
# or a bad credential (401), a role without the permission (403), not found or not yours (404), a body or
# parameter that breaks the schema (422).
ALWAYS_POSSIBLE = {
    "400": "Bad Request",
    "401": "Unauthorized",
    "403": "Forbidden",
    "404": "Not Found",
    "422": "Unprocessable Entity",
}


MEDCOM_ENVELOPE = "Envelope"
ACKNOWLEDGED_PATHS = re.compile(r"/v1/cases(/|$)")


class BryggaAPI(NinjaAPI):
    """The document tells the truth about errors: every refusal in the structured error envelope (``Error``),
    documented on every operation for the statuses any call can meet; where an endpoint answers a refusal with
    its own body (the MedCom acknowledgement of the case endpoints), either body is documented."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})[ERROR_SCHEMA_NAME] = ERROR_SCHEMA
        error_ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
        for path, operations in schema.get("paths", {}).items():
            # The case endpoints answer their own refusals with a MedCom acknowledgement (ADR 0102).
            acknowledged = bool(ACKNOWLEDGED_PATHS.search(path))
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for code, description in ALWAYS_POSSIBLE.items():
                    responses.setdefault(code, {"description": description})
                for code, response in responses.items():
                    if int(code) < 400:
                        continue
                    content = response.setdefault("content", {}).setdefault("application/json", {})
                    declared = content.get("schema")
                    if declared is None and acknowledged:
                        declared = {"$ref": f"#/components/schemas/{MEDCOM_ENVELOPE}"}
                    if declared is None or declared == error_ref:
                        content["schema"] = error_ref
                    else:
                        content["schema"] = {"anyOf": [declared, error_ref]}
        return schema


api = BryggaAPI(
    title="brygga API",
    version="1",
    description=(
        "Samordnad vård och omsorg mellan region och kommuner i Västra Götaland. Varje läsning av "
        "personuppgifter kräver medverkan för den aktiva enheten och loggas."
    ),
    auth=AUTH,
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs_url="/docs",
    # The interactive API documentation is the one page with scripts (Swagger UI) and shows no personal data:
    # it is left out of the strict Content-Security-Policy (ADR 0802).
    docs_decorator=csp_exempt(),
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(NotFound)
def not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return api.create_response(request, {"error": "not_found", "problems": []}, status=404)


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(
        request,
        {
            "error": "forbidden",
            "problems": [
                {
                    "field": "",
                    "rule": "BEHORIGHET",
                    "message": f"Rollen saknar behörigheten {exc.permission}.",
                }
            ],
        },
        status=403,
    )


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {
            "error": "unauthenticated",
            "problems": [
                {"field": "Authorization", "rule": "AUTH", "message": "Inloggning eller API-nyckel krävs."}
            ],
        },
        status=401,
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """Ninja's own refusals (a body that is not JSON at all: "Cannot parse request body") in the documented
    envelope, not ninja's ``{"detail": …}``."""
    kind = {401: "unauthenticated", 403: "forbidden", 404: "not_found"}.get(exc.status_code, "invalid")
    problem = {"field": "body", "rule": "JSON", "message": "Anropets innehåll är inte giltig JSON."}
    if exc.status_code != 400:
        problem = {"field": "", "rule": f"HTTP-{exc.status_code}", "message": str(exc)}
    return api.create_response(request, {"error": kind, "problems": [problem]}, status=exc.status_code)


@api.exception_handler(NinjaValidationError)
def invalid_payload(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    problems = []
    for error in exc.errors:
        # Leading parts say where the input was (body, payload, query, path); the rest name the field —
        # which may itself be called "body" (a message's text).
        location = [str(part) for part in error.get("loc", [])]
        if location and location[0] in ("body", "query", "path", "form"):
            location.pop(0)
        if location and location[0] == "payload":
            location.pop(0)
        if error.get("type") == "string_too_long":  # one limit per text field, as on the pages (TEXT-LANGD)
            limit = (error.get("ctx") or {}).get("max_length")
            problems.append(
                {
                    "field": ".".join(location),
                    "rule": "TEXT-LANGD",
                    "message": f"Texten är för lång: högst {limit} tecken.",
                }
            )
            continue
        problems.append(
            {
                "field": ".".join(location),
                "rule": f"SCHEMA-{error.get('type', 'invalid')}",
                "message": error.get("msg", ""),
            }
        )
    return api.create_response(request, {"error": "invalid", "problems": problems}, status=422)


def _register_routers() -> None:

    api.add_router("/", organisations_router)
    api.add_router("/persons", people_router)
    api.add_router("/cases", cases_router)
    add_careplan_route(sip_router)  # the FHIR app adds the SIP's CarePlan to the SIP API (ADR 0009)
    api.add_router("/sip", sip_router)
    api.add_router("/payment", payment_router)
    api.add_router("/statistics", statistics_router)
    api.add_router("/governance", governance_router)
    api.add_router("/economy", economy_router)
    api.add_router("/documents", documents_router)
    api.add_router("/deviations", deviations_router)


_register_routers()
