"""The shell of the web UI: start page, health check, unit switcher, person look-up and person page, the
organisation registry."""

from __future__ import annotations

from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from brygga.access.services import lookup_person, open_person
from brygga.accounts.middleware import SESSION_KEY
from brygga.accounts.permissions import Perm
from brygga.accounts.services import choose_membership
from brygga.core.errors import DomainError, NotFound
from brygga.core.views import actor_required
from brygga.organisations.models import Municipality, PopulationFigure, Subregion, Unit
from brygga.people.presenters import person_summary
from brygga.people.services import reveal_protected_identity


@actor_required(needs_unit=False)
def home(request: HttpRequest) -> HttpResponse:
    if request.actor.membership is None:  # type: ignore[attr-defined]
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
def person_lookup(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {}
    if request.method == "POST":
        identifier = request.POST.get("identifier", "")
        context["identifier"] = identifier
        try:
            person = lookup_person(request.actor, identifier)  # type: ignore[attr-defined]
            context["result"] = person_summary(person)
        except DomainError as exc:
            context["errors"] = exc.problems
            return render(request, "web/person_lookup.html", context, status=400)
        except NotFound:
            context["not_found"] = True
            return render(request, "web/person_lookup.html", context, status=404)
    return render(request, "web/person_lookup.html", context)


@actor_required(Perm.PERSON_READ)
def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    person = open_person(request.actor, person_id)  # type: ignore[attr-defined]
    return render(request, "web/person_detail.html", {"person": person, "summary": person_summary(person)})


@require_POST
@actor_required(Perm.PERSON_REVEAL_PROTECTED)
def person_reveal(request: HttpRequest, person_id: int) -> HttpResponse:
    person = open_person(request.actor, person_id)  # type: ignore[attr-defined]
    reveal_protected_identity(request.actor, person)  # type: ignore[attr-defined]
    return render(
        request,
        "web/person_detail.html",
        {"person": person, "summary": person_summary(person, revealed=True), "revealed": True},
    )


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
        {"units": qs[:300], "kinds": Unit.Kind.choices, "kind": kind, "q": query, "total": qs.count()},
    )
