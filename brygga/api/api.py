"""The versioned JSON API, /api/v1/, with its OpenAPI document at /api/v1/openapi.json.

Errors are structured and name the field and the rule:
``{"error": "invalid", "problems": [{"field": "...", "rule": "...", "message": "..."}]}``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError

from brygga.api.auth import AUTH
from brygga.core.errors import DomainError, NotFound, PermissionDenied

api = NinjaAPI(
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
    from brygga.cases.api import router as cases_router
    from brygga.deviations.api import router as deviations_router
    from brygga.documents.api import router as documents_router
    from brygga.economy.api import router as economy_router
    from brygga.governance.api import router as governance_router
    from brygga.organisations.api import router as organisations_router
    from brygga.payment.api import router as payment_router
    from brygga.people.api import router as people_router
    from brygga.sip.api import router as sip_router
    from brygga.statistics.api import router as statistics_router

    api.add_router("/", organisations_router)
    api.add_router("/persons", people_router)
    api.add_router("/cases", cases_router)
    api.add_router("/sip", sip_router)
    api.add_router("/payment", payment_router)
    api.add_router("/statistics", statistics_router)
    api.add_router("/governance", governance_router)
    api.add_router("/economy", economy_router)
    api.add_router("/documents", documents_router)
    api.add_router("/deviations", deviations_router)


_register_routers()
