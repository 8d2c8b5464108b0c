"""The FHIR endpoint's HTTP plumbing: bearer-token authentication shared with /api/v1
(``brygga.accounts.api_auth``), ``application/fhir+json`` answers, OperationOutcomes for every refusal, and
the Idempotency-Key helper of the JSON API (ADR 0106) with a FHIR answer shape."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from brygga.accounts.api_auth import TokenAuth
from brygga.accounts.context import Actor, AuthedRequest
from brygga.core.errors import DomainError, NotFound, PermissionDenied
from brygga.core.idempotency import AnswerShape, idempotency_key, run_idempotent
from brygga.fhir.outcome import FhirError, Issue, operation_outcome

CONTENT_TYPE = "application/fhir+json; charset=utf-8"
_token_auth = TokenAuth()


def fhir_response(
    resource: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> HttpResponse:
    response = HttpResponse(
        json.dumps(resource, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type=CONTENT_TYPE,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def outcome_response(error: FhirError) -> HttpResponse:
    return fhir_response(error.outcome(), error.status)


def actor_of(request: AuthedRequest) -> Actor:
    return request.actor


View = Callable[..., HttpResponse]


def fhir_view(methods: tuple[str, ...], public: bool = False) -> Callable[[View], View]:
    """Authenticate with an API bearer token (bound to one unit and role), allow ``methods``, and turn every
    refusal into an OperationOutcome: NotFound → 404 (also for another unit's resource: need-to-know),
    PermissionDenied → 403, an unexpected DomainError → 422."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = outcome_response(
                    FhirError.single(405, "FHIR-METOD", f"Metoden {request.method} stöds inte här.")
                )
                response["Allow"] = ", ".join(methods)
                return response
            if not public:
                token = _token_auth(request)
                if token is None:
                    response = outcome_response(
                        FhirError.single(
                            401, "AUTH", "Ange en API-nyckel: Authorization: Bearer bry_…", "", "login"
                        )
                    )
                    response["WWW-Authenticate"] = "Bearer"
                    return response
            try:
                return view(request, *args, **kwargs)
            except FhirError as exc:
                return outcome_response(exc)
            except NotFound:
                return outcome_response(
                    FhirError.single(404, "OKAND-RESURS", "Resursen finns inte.", "", "not-found")
                )
            except PermissionDenied as exc:
                return outcome_response(
                    FhirError.single(
                        403, "BEHORIGHET", f"Rollen saknar behörigheten {exc.permission}.", "", "forbidden"
                    )
                )
            except DomainError as exc:
                return outcome_response(
                    FhirError(
                        exc.status if exc.status >= 400 else 422,
                        [Issue(p.rule, p.message, p.field) for p in exc.problems],
                    )
                )

        return wrapper

    return decorate


# --- idempotent writes --------------------------------------------------------------------------------------


def _stored(status: int, resource: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    return status, {"resource": resource, "headers": headers}


def _refused(exc: DomainError) -> tuple[int, dict[str, Any]]:
    error = FhirError(exc.status, [Issue(p.rule, p.message, p.field) for p in exc.problems])
    return _stored(error.status, error.outcome(), {})


FHIR_SHAPE = AnswerShape(
    refused=_refused,
    not_found=lambda: _stored(
        404, operation_outcome([Issue("OKAND-RESURS", "Resursen finns inte.", "", "not-found")], 404), {}
    ),
    key_conflict=lambda: _stored(
        422,
        operation_outcome(
            [
                Issue(
                    "IDEMPOTENS",
                    "Nyckeln är redan använd för ett annat anrop.",
                    "Idempotency-Key",
                    "conflict",
                )
            ],
            422,
        ),
        {},
    ),
    replayed=lambda body: {**body, "headers": {**body.get("headers", {}), "X-Idempotent-Replay": "true"}},
    transient=lambda: _stored(
        503,
        operation_outcome(
            [Issue("TILLFALLIGT-FEL", "Tillfälligt fel; försök igen med samma nyckel.", "", "transient")], 503
        ),
        {},
    ),
)

Write = Callable[[], tuple[int, dict[str, Any], dict[str, str]]]


def run_write(request: AuthedRequest, scope: str, body: Any, write: Write) -> HttpResponse:
    """Run ``write`` (status, resource, headers) in one transaction; with an ``Idempotency-Key``, at most once
    (a retry gets the stored answer, ``X-Idempotent-Replay: true``). A FhirError rolls the write back and is
    answered — and stored — like a service's refusal."""
    actor = actor_of(request)

    def operation() -> tuple[int, dict[str, Any]]:
        status, resource, headers = write()
        return _stored(status, resource, headers)

    try:
        status, answer = run_idempotent(actor, idempotency_key(request), scope, body, operation, FHIR_SHAPE)
    except FhirError as exc:
        # Rolled back by run_idempotent's transaction; a keyed retry runs again and is refused again.
        return outcome_response(exc)
    return fhir_response(answer["resource"], status, answer.get("headers"))
