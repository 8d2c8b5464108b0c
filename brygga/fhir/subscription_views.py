"""Subscription, SubscriptionTopic and ``$status`` (R4B backport). A subscription belongs to the unit of the
token that created it and is notified only about cases that unit takes part in; other units' subscriptions
are 404."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from brygga.accounts.context import AuthedRequest
from brygga.accounts.permissions import Perm
from brygga.core.errors import NotFound
from brygga.fhir import subscriptions
from brygga.fhir.http import actor_of, fhir_response, fhir_view, run_write
from brygga.fhir.models import Notification, Subscription
from brygga.fhir.outcome import FhirError, Issue
from brygga.fhir.validation import read_body
from brygga.fhir.views import searchset

PAYLOAD_CONTENT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content"


@fhir_view(("GET",))
def topic_search(request: HttpRequest) -> HttpResponse:
    return searchset(request, [subscriptions.topic_resource(t) for t in subscriptions.TOPICS.values()])


@fhir_view(("GET",))
def topic_read(request: HttpRequest, pk: str) -> HttpResponse:
    topic = subscriptions.TOPICS.get(pk)
    if topic is None:
        raise NotFound
    return fhir_response(subscriptions.topic_resource(topic))


def _own(request: AuthedRequest, pk: str) -> Subscription:
    actor = actor_of(request)
    sub = Subscription.objects.filter(pk=int(pk) if pk.isdecimal() else 0, unit=actor.unit).first()
    if sub is None:
        raise NotFound
    return sub


def _parse(resource: dict[str, Any]) -> dict[str, Any]:
    issues = []
    topic = subscriptions.TOPIC_BY_URL.get(str(resource.get("criteria") or ""))
    if topic is None:
        issues.append(
            Issue(
                "FHIR-AMNE",
                "criteria ska vara ett av brygga's ämnen (GET SubscriptionTopic).",
                "Subscription.criteria",
                "code-invalid",
            )
        )
    channel = resource.get("channel") or {}
    if channel.get("type") != "rest-hook":
        issues.append(
            Issue("FHIR-KANAL", "Bara rest-hook stöds.", "Subscription.channel.type", "not-supported")
        )
    endpoint = str(channel.get("endpoint") or "")
    parts = urlsplit(endpoint)
    allowed = ("https",) if settings.BRYGGA_FHIR_REQUIRE_HTTPS else ("https", "http")
    if parts.scheme not in allowed or not parts.netloc:
        issues.append(
            Issue(
                "FHIR-ADRESS",
                f"endpoint ska vara en {'/'.join(allowed)}-adress.",
                "Subscription.channel.endpoint",
                "invalid",
            )
        )
    if parts.netloc and not subscriptions.endpoint_allowed(endpoint):
        issues.append(
            Issue(
                "FHIR-ADRESS",
                "Adressen finns inte bland de mottagare som förvaltningen har godkänt.",
                "Subscription.channel.endpoint",
                "business-rule",
            )
        )
    if channel.get("payload") not in (None, "application/fhir+json"):
        issues.append(
            Issue(
                "FHIR-FORMAT",
                "payload ska vara application/fhir+json.",
                "Subscription.channel.payload",
                "not-supported",
            )
        )
    content = Subscription.Content.ID_ONLY.value
    for ext in (channel.get("_payload") or {}).get("extension") or []:
        if ext.get("url") == PAYLOAD_CONTENT:
            content = str(ext.get("valueCode"))
    if content not in (Subscription.Content.EMPTY, Subscription.Content.ID_ONLY):
        issues.append(
            Issue(
                "FHIR-INNEHALL",
                "Notiserna bär id (id-only) eller inget (empty); resurserna hämtas med egen nyckel.",
                "Subscription.channel.payload.extension('backport-payload-content')",
                "not-supported",
            )
        )
    heartbeat: int | None = None
    for ext in channel.get("extension") or []:
        if ext.get("url") == subscriptions.HEARTBEAT_PERIOD:
            value = ext.get("valueUnsignedInt")
            low, high = settings.BRYGGA_FHIR_MIN_HEARTBEAT_SECONDS, 86400
            if not isinstance(value, int) or not low <= value <= high:
                issues.append(
                    Issue(
                        "FHIR-HJARTSLAG",
                        f"heartbeatPeriod ska vara {low}–{high} sekunder.",
                        "Subscription.channel.extension('backport-heartbeat-period')",
                        "business-rule",
                    )
                )
            else:
                heartbeat = value
    headers = [str(h) for h in channel.get("header") or []]
    if issues:
        raise FhirError(422, issues)
    assert topic is not None
    return {
        "topic": topic.code,
        "endpoint": endpoint,
        "content": content,
        "headers": headers,
        "reason": str(resource.get("reason") or "")[:200],
        "heartbeat_period": heartbeat,
    }


@fhir_view(("GET", "POST"))
def subscription_type(request: AuthedRequest) -> HttpResponse:
    actor = actor_of(request)
    if not actor.can(Perm.CASE_READ) or actor.unit is None:
        raise FhirError.single(403, "BEHORIGHET", "Rollen kan inte prenumerera på ärenden.", "", "forbidden")
    if request.method == "GET":
        subs = (
            Subscription.objects.filter(unit=actor.unit)
            .exclude(status=Subscription.Status.OFF)
            .order_by("pk")
        )
        return searchset(request, [subscriptions.subscription_resource(s) for s in subs])
    resource = read_body(request, "Subscription")
    fields = _parse(resource)

    unit = actor.unit

    def write() -> tuple[int, dict[str, Any], dict[str, str]]:
        sub = Subscription.objects.create(
            unit=unit, created_by=actor.user, status=Subscription.Status.REQUESTED, **fields
        )
        return 201, subscriptions.subscription_resource(sub), {"Location": f"/fhir/r4/Subscription/{sub.pk}"}

    response = run_write(request, "fhir:Subscription:create", resource, write)
    if response.status_code != 201:
        return response
    # Committed as requested; now the handshake (outside the transaction): the answer says how it went —
    # active, or error with the reason. A replayed create answers the subscription as it is now.
    pk = response["Location"].rpartition("/")[2]
    sub = subscriptions.activate(int(pk))
    answer = fhir_response(subscriptions.subscription_resource(sub), 201, {"Location": response["Location"]})
    if response.has_header("X-Idempotent-Replay"):
        answer["X-Idempotent-Replay"] = response["X-Idempotent-Replay"]
    return answer


@fhir_view(("GET", "DELETE"))
def subscription_instance(request: AuthedRequest, pk: str) -> HttpResponse:
    sub = _own(request, pk)
    if request.method == "DELETE":
        Subscription.objects.filter(pk=sub.pk).update(status=Subscription.Status.OFF)
        Notification.objects.filter(subscription=sub, status=Notification.Status.PENDING).update(
            status=Notification.Status.DROPPED
        )
        return HttpResponse(status=204)
    if sub.status == Subscription.Status.OFF:
        raise NotFound
    return fhir_response(subscriptions.subscription_resource(sub))


@fhir_view(("GET", "POST"))
def subscription_status(request: AuthedRequest, pk: str) -> HttpResponse:
    sub = _own(request, pk)
    return searchset(request, [subscriptions.status_resource(sub)])
