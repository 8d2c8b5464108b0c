"""The shell of the web UI: start page, health check, unit switcher, person look-up and person page, the
organisation registry."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from brygga.access.persons import (
    MANUAL_REASON_MAX,
    enter_person_manually,
    refresh_from_register,
    reveal_protected_identity,
)
from brygga.access.services import lookup_person, open_person
from brygga.accounts.context import AuthedRequest
from brygga.accounts.decorators import actor_required
from brygga.accounts.middleware import SESSION_KEY
from brygga.accounts.permissions import Perm
from brygga.accounts.services import choose_membership
from brygga.core.errors import DomainError, NotFound
from brygga.core.paging import html_page
from brygga.organisations.models import Municipality, PopulationFigure, Subregion, Unit
from brygga.people.presenters import person_summary


@actor_required(needs_unit=False)
def home(request: AuthedRequest) -> HttpResponse:
    if request.actor.membership is None:
        return redirect("web:choose_unit")
    return render(request, "web/home.html")


@actor_required(needs_unit=False)
def choose_unit(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            membership = choose_membership(request.user, request.POST.get("membership", ""))  # type: ignore[arg-type]
        except DomainError as exc:
            return render(request, "web/choose_unit.html", {"errors": exc.problems}, status=400)
        request.session[SESSION_KEY] = membership.pk
        target = request.POST.get("next") or "/"
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = "/"
        return redirect(target)
    return render(request, "web/choose_unit.html")


@actor_required(Perm.PERSON_LOOKUP)
def person_lookup(request: AuthedRequest) -> HttpResponse:
    context: dict[str, object] = {}
    if request.method == "POST":
        identifier = request.POST.get("identifier", "")
        purpose = request.POST.get("purpose", "")
        context.update(identifier=identifier, purpose=purpose)
        try:
            person = lookup_person(request.actor, identifier, purpose=purpose)
            context["result"] = person_summary(person)
        except DomainError as exc:
            context["errors"] = exc.problems
            return render(request, "web/person_lookup.html", context, status=exc.status)
        except NotFound:
            context["not_found"] = True
            return render(request, "web/person_lookup.html", context, status=404)
    return render(request, "web/person_lookup.html", context)


@actor_required(Perm.PERSON_READ)
def person_detail(request: AuthedRequest, person_id: int) -> HttpResponse:
    person = open_person(request.actor, person_id)
    return render(request, "web/person_detail.html", {"person": person, "summary": person_summary(person)})


@require_POST
@actor_required(Perm.PERSON_REVEAL_PROTECTED)
def person_reveal(request: AuthedRequest, person_id: int) -> HttpResponse:
    person = open_person(request.actor, person_id)
    reveal_protected_identity(request.actor, person)
    return render(
        request,
        "web/person_detail.html",
        {"person": person, "summary": person_summary(person, revealed=True), "revealed": True},
    )


@require_POST
@actor_required(Perm.PERSON_READ)
def person_refresh(request: AuthedRequest, person_id: int) -> HttpResponse:
    """Fetch the person again from the population register, on demand (ADR 0500)."""
    person = open_person(request.actor, person_id)
    try:
        outcome = refresh_from_register(request.actor, person)
    except DomainError as exc:
        person.refresh_from_db()
        context = {"person": person, "summary": person_summary(person), "errors": exc.problems}
        return render(request, "web/person_detail.html", context, status=exc.status)
    if outcome.moved:
        messages.success(
            request, _("Uppgifterna är uppdaterade. Personen har flyttat; öppna ärenden är omadresserade.")
        )
    elif outcome.changed:
        messages.success(request, _("Uppgifterna är uppdaterade från folkbokföringen."))
    else:
        messages.success(request, _("Folkbokföringen har inga ändringar."))
    return redirect("web:person_detail", person_id=person.pk)


MANUAL_FIELDS = (
    "identifier",
    "given_name",
    "family_name",
    "street_address",
    "postal_code",
    "city",
    "municipality_code",
    "reason",
)


@actor_required(Perm.CASE_CREATE)
def person_new(request: AuthedRequest) -> HttpResponse:
    """Enter a person by hand: a reserve number, or a number the population register does not know."""
    context: dict[str, object] = {
        "form": {f: request.POST.get(f, "") for f in MANUAL_FIELDS} if request.method == "POST" else {},
        "municipalities": Municipality.objects.order_by("name"),
        "reason_max": MANUAL_REASON_MAX,
    }
    if request.method == "POST":
        form = {f: request.POST.get(f, "") for f in MANUAL_FIELDS}
        try:
            person = enter_person_manually(request.actor, **form)
        except DomainError as exc:
            context["errors"] = exc.problems
            return render(request, "web/person_new.html", context, status=400)
        except NotFound:
            return render(request, "web/forbidden.html", status=403)
        messages.success(request, _("Personen är registrerad. Skriv in patienten med numret."))
        return redirect(f"{reverse('cases:new')}?identifier={person.formatted_identifier}")
    return render(request, "web/person_new.html", context)


@require_GET
@actor_required(needs_unit=False)
def municipalities(request: HttpRequest) -> HttpResponse:
    subregions = Subregion.objects.annotate(count=Count("municipalities")).prefetch_related(
        Prefetch(
            "municipalities",
            queryset=Municipality.objects.select_related("association").prefetch_related(
                Prefetch("population_figures", queryset=PopulationFigure.objects.order_by("-year"))
            ),
        )
    )
    return render(request, "web/municipalities.html", {"subregions": subregions})


@require_GET
@actor_required(needs_unit=False)
def units(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("typ", "")
    query = request.GET.get("q", "").strip()
    qs = Unit.objects.filter(is_active=True).select_related("organisation", "municipality", "site")
    if kind:
        qs = qs.filter(kind=kind)
    if query:
        qs = qs.filter(name__icontains=query)
    return render(
        request,
        "web/units.html",
        {
            "units": html_page(request, qs.order_by("name", "pk")),
            "kinds": Unit.Kind.choices,
            "kind": kind,
            "q": query,
        },
    )


UNIT_SEARCH_LIMIT = 20
UNIT_SEARCH_MAX_QUERY = 100


@require_GET
@actor_required(needs_unit=False)
def unit_search(request: HttpRequest) -> JsonResponse:
    """Active units matching every word of ``q`` in the name, the municipality's name or the kind (its
    Swedish label), for the unit picker (the accessible combobox, static/brygga/combobox.js). ``kinds``
    (comma-separated codes) narrows the kinds. Unit names are not personal data; the answer holds at most
    20 units, by name, and the total. One query for the rows, one for the count."""
    query = request.GET.get("q", "")[:UNIT_SEARCH_MAX_QUERY]
    kinds = [k for k in request.GET.get("kinds", "").split(",") if k in Unit.Kind.values]
    qs = Unit.objects.filter(is_active=True).select_related("municipality")
    if kinds:
        qs = qs.filter(kind__in=kinds)
    for word in query.split()[:6]:
        kind_hits = [value for value, label in Unit.Kind.choices if word.casefold() in str(label).casefold()]
        qs = qs.filter(
            Q(name__icontains=word) | Q(municipality__name__icontains=word) | Q(kind__in=kind_hits)
        )
    rows = list(qs.order_by("name")[:UNIT_SEARCH_LIMIT])
    total = len(rows) if len(rows) < UNIT_SEARCH_LIMIT else qs.count()
    return JsonResponse(
        {
            "count": total,
            "results": [
                {
                    "id": u.pk,
                    "hsa_id": u.hsa_id,
                    "name": u.name,
                    "municipality": u.municipality.name,
                    "kind": str(u.get_kind_display()),
                    "label": u.picker_label,
                }
                for u in rows
            ],
        }
    )
