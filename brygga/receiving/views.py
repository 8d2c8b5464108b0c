"""Pages of the receiving side: what the case page shows a unit (the permitted planning basis, the receiving
units' plans, contact details), and each user's notification choices (opt-out)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from brygga.accounts.context import Actor, AuthedRequest
from brygga.accounts.decorators import actor_required
from brygga.cases.models import Case, Meeting
from brygga.core import statements
from brygga.core.errors import Problem
from brygga.organisations.models import Unit
from brygga.receiving import planning
from brygga.receiving.models import NotificationPreference, UnitContact


def receiving_context(case: Case, unit: Unit, participants: list[Any]) -> dict[str, Any]:
    """For the case page: the planning basis as ``unit`` may read it (first read recorded, changes marked),
    the receivers' plans, this unit's own plan, and the contact details of every participating unit (set on
    each participant as ``contact``; None when the unit has none)."""
    contacts = {c.unit_id: c for c in UnitContact.objects.filter(unit__in=[p.unit_id for p in participants])}
    for participant in participants:
        participant.contact = contacts.get(participant.unit_id)
    plans = planning.receiver_plans_for(case, unit)
    return {
        "planning_sections": planning.sections_for(case, unit) if unit.pk != case.ward_id else [],
        "receiver_plans": plans,
        # One plan per unit and case (one_receiver_plan_per_unit): the unit's own is among those just read.
        "my_plan": next((row["plan"] for row in plans if row["own"]), None),
        "contacts": contacts,
        # The video room, its PINs and dial-in are shown to the units invited to that meeting only.
        "invited_meetings": set(
            statements.reused(
                "invited_meetings",
                lambda case_id, unit_id: Meeting.participants.through.objects.filter(
                    meeting__case_id=case_id, unit_id=unit_id
                ).values_list("meeting_id", flat=True),
                case_id=case.pk,
                unit_id=unit.pk,
            )
        ),
    }


@require_http_methods(["GET", "POST"])
@actor_required()
def preferences(request: AuthedRequest) -> HttpResponse:
    """Per unit the user works in: e-mail on/off, SMS on/off with a number, the digest hours."""
    actor: Actor = request.actor
    units = [m.unit for m in actor.user.memberships.select_related("unit").order_by("unit__name")]
    units = list({u.pk: u for u in units}.values())
    prefs = {p.unit_id: p for p in NotificationPreference.objects.filter(user=actor.user)}
    errors: list[Problem] = []
    if request.method == "POST":
        for unit in units:
            hours = request.POST.get(f"hours-{unit.pk}", "7,13").replace(" ", "") or "7,13"
            sms = request.POST.get(f"sms-{unit.pk}") == "on"
            phone = request.POST.get(f"phone-{unit.pk}", "").strip()
            if hours and not all(h.isdecimal() and int(h) < 24 for h in hours.split(",")):
                errors.append(
                    Problem(
                        f"hours-{unit.pk}",
                        "TIMMAR",
                        _("Ange hela timmar 0–23, t.ex. 7,13."),
                    )
                )
            if sms and not phone:
                errors.append(Problem(f"phone-{unit.pk}", "SMS", _("Ange mobilnummer för sms.")))
            if len(phone) > 40:
                errors.append(Problem(f"phone-{unit.pk}", "LANGD", _("Högst 40 tecken.")))
        if not errors:
            for unit in units:
                NotificationPreference.objects.update_or_create(
                    user=actor.user,
                    unit=unit,
                    defaults={
                        "email": request.POST.get(f"email-{unit.pk}") == "on",
                        "sms": request.POST.get(f"sms-{unit.pk}") == "on",
                        "phone": request.POST.get(f"phone-{unit.pk}", "").strip(),
                        "digest_hours": request.POST.get(f"hours-{unit.pk}", "7,13").replace(" ", "")
                        or "7,13",
                    },
                )
            messages.success(request, _("Dina val för aviseringar är sparade."))
            return redirect("receiving:preferences")
    rows = []
    for unit in units:
        pref = prefs.get(unit.pk)
        if request.method == "POST":
            rows.append(
                {
                    "unit": unit,
                    "email": request.POST.get(f"email-{unit.pk}") == "on",
                    "sms": request.POST.get(f"sms-{unit.pk}") == "on",
                    "phone": request.POST.get(f"phone-{unit.pk}", ""),
                    "hours": request.POST.get(f"hours-{unit.pk}", ""),
                }
            )
        else:
            rows.append(
                {
                    "unit": unit,
                    "email": pref.email if pref else True,
                    "sms": pref.sms if pref else False,
                    "phone": pref.phone if pref else "",
                    "hours": pref.digest_hours if pref else "7,13",
                }
            )
    return render(
        request,
        "receiving/preferences.html",
        {"rows": rows, "errors": errors, "has_email": bool(actor.user.email)},
        status=400 if errors else 200,
    )
