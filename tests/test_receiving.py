"""The receiving side (issue 18, ADR 0900–0901): the ward's planning basis reaches the receiving units section
by section through the one disclosure decision (R-SEK-1..4), what is withheld says why, changes after a
unit's first read are marked (R-UK-1); receivers record their own planning back on the case; units carry
contact details; case events notify the other units' users by e-mail (at once or in a digest), SMS through
the adapter, with opt-out, retries and no personal data; the menu counts what is unread; the inbox refreshes
its list and shows the running deadlines and the discharge-ready time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from brygga.accounts.context import Actor
from brygga.accounts.models import Membership
from brygga.accounts.permissions import Role
from brygga.cases import services
from brygga.cases.models import Case, CaseEvent
from brygga.consent.services import record_assessment, record_consent
from brygga.core.errors import DomainError
from brygga.organisations.models import Unit
from brygga.receiving import notify, planning
from brygga.receiving import services as receiving_services
from brygga.receiving.models import (
    Notification,
    NotificationPreference,
    ReceiverPlan,
    SentSms,
    UnitContact,
)
from tests.factories import CONTACT_POINT, PRIMARY_CARE, WARD, actor, make_person, share_consent, unit

pytestmark = pytest.mark.django_db

PLANNING: dict[str, Any] = {
    "answers": {
        "lives_alone": "ja",
        "home_care_before": "nej",
        "home_health_before": "nej",
        "aids_needed": "ja",
        "cognitive_impairment": "nej",
        "relatives_informed": "ja",
    },
    "needs": {"social_services": "ja", "municipal_health": "ja", "primary_care": "ja"},
    "nursing_status": {"pain": "Smärtfri i vila", "mobility": "Går med rollator"},
    "medications": "Waran 2,5 mg enligt ordination",
}


@pytest.fixture
def contact() -> Actor:
    a = actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT, username="kp")
    a.user.email = "kp@brygga.example"
    a.user.save(update_fields=["email"])
    return a


@pytest.fixture
def case(nurse: Actor, contact: Actor) -> Case:
    now = timezone.now()
    case = services.admit(
        nurse,
        make_person("1480"),
        admitted_at=now - dt.timedelta(hours=2),
        care_type="somatic",
        expected_discharge_date=(now + dt.timedelta(days=3)).date(),
        need_assessed_at=now - dt.timedelta(hours=2),
    )
    services.send_admission_notice(nurse, case)
    services.save_planning_basis(nurse, case, **PLANNING)
    case.refresh_from_db()
    return case


def consent(nurse: Actor, case: Case, units: list[Any], categories: list[str], **extra: Any) -> None:
    record_consent(
        nurse,
        case.person,
        given_by="person",
        form="verbal",
        purpose="Utskrivning",
        parties=units,
        categories=categories,
        exclusions_note="Inget",
        **extra,
    )


def shown(sections: list[planning.Section]) -> dict[str, bool]:
    return {s.key: s.shown for s in sections}


# --- 1. the planning basis reaches the receivers ----------------------------------------------------------


def test_no_basis_withholds_every_section_naming_R_SEK_2(case: Case) -> None:
    sections = planning.sections_for(case, unit(CONTACT_POINT))
    assert shown(sections) == {"situation": False, "needs": False, "nursing": False, "medications": False}
    assert all(s.refusal is not None and s.refusal.rule == "R-SEK-2" for s in sections)
    assert all(s.items == [] for s in sections)  # nothing of the content leaves with a refusal


def test_consent_opens_only_the_sections_it_names_R_SEK_3(nurse: Actor, case: Case) -> None:
    consent(nurse, case, [unit(CONTACT_POINT)], ["nursing", "function"])
    sections = {s.key: s for s in planning.sections_for(case, unit(CONTACT_POINT))}
    assert shown(list(sections.values())) == {
        "situation": False,
        "needs": True,
        "nursing": True,
        "medications": False,
    }
    assert sections["nursing"].basis is not None and sections["nursing"].basis.kind == "consent"
    assert any(i.text == "Smärtfri i vila" for i in sections["nursing"].items)
    assert sections["medications"].refusal is not None
    assert sections["medications"].items == []


def test_an_exclusion_withholds_the_section_even_with_consent_R_SEK_4(nurse: Actor, case: Case) -> None:
    consent(
        nurse,
        case,
        [unit(CONTACT_POINT)],
        ["nursing"],
        excluded_categories=["medications"],
    )
    # a physician's assessment naming the medications does not override the person's exclusion
    record_assessment(
        actor(Role.PHYSICIAN, WARD),
        case.person,
        parties=[unit(CONTACT_POINT)],
        categories=["medications"],
        reasoning="Nödvändigt för läkemedelshanteringen",
        valid_until=timezone.localdate() + dt.timedelta(days=10),
    )
    sections = {s.key: s for s in planning.sections_for(case, unit(CONTACT_POINT))}
    assert sections["nursing"].shown
    assert not sections["medications"].shown
    assert sections["medications"].refusal is not None and sections["medications"].refusal.rule == "R-SEK-4"


def test_changes_after_the_first_read_are_marked_R_UK_1(nurse: Actor, case: Case) -> None:
    consent(nurse, case, [unit(CONTACT_POINT)], ["nursing"])
    first = {s.key: s for s in planning.sections_for(case, unit(CONTACT_POINT))}
    assert not first["nursing"].changed
    services.save_planning_basis(
        nurse,
        case,
        **{**PLANNING, "nursing_status": {"pain": "Ont vid rörelse", "mobility": "Går med rollator"}},
    )
    later = {s.key: s for s in planning.sections_for(case, unit(CONTACT_POINT))}
    pain = next(i for i in later["nursing"].items if i.key == "pain")
    mobility = next(i for i in later["nursing"].items if i.key == "mobility")
    assert later["nursing"].changed and pain.changed and pain.before == "Smärtfri i vila"
    assert not mobility.changed
    # Still marked on the next read: the comparison is with what the unit first read.
    again = {s.key: s for s in planning.sections_for(case, unit(CONTACT_POINT))}
    assert again["nursing"].changed


def test_the_receivers_case_page_shows_permitted_sections_and_withheld_ones_with_the_reason(
    nurse: Actor, contact: Actor, case: Case
) -> None:
    consent(nurse, case, [unit(CONTACT_POINT)], ["nursing"])
    client = Client()
    client.force_login(contact.user)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Avdelningens planeringsunderlag" in page
    assert "Smärtfri i vila" in page  # nursing: consent
    assert "Waran" not in page  # medications: withheld
    assert "Undanhållet" in page and "R-SEK-2" in page


# --- the receivers' own planning --------------------------------------------------------------------------


def test_a_receiver_records_its_planning_and_the_ward_sees_it_with_a_basis(
    nurse: Actor, contact: Actor, case: Case
) -> None:
    receiving_services.save_receiver_plan(
        contact, case, decisions="Hemtjänst beviljad", efforts="Hemtjänst 4 ggr/dag", ready_to_receive=True
    )
    assert CaseEvent.objects.filter(case=case, kind="planning_updated", unit=unit(CONTACT_POINT)).exists()
    # Without a basis from the municipality to the ward, the ward is told it is withheld (R-SEK-2)…
    rows = planning.receiver_plans_for(case, unit(WARD))
    refusal: Any = rows[0]["refusal"]
    assert rows[0]["plan"] is None and refusal.rule == "R-SEK-2"
    # …with the person's consent it reads it.
    consent(nurse, case, [unit(WARD)], ["efforts"])
    rows = planning.receiver_plans_for(case, unit(WARD))
    plan = rows[0]["plan"]
    assert isinstance(plan, ReceiverPlan) and plan.ready_to_receive and "Hemtjänst 4" in plan.efforts
    client = Client()
    client.force_login(nurse.user)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Hemtjänst 4 ggr/dag" in page and "Redo att ta emot" in page


def test_the_ward_cannot_record_a_receivers_plan_and_nothing_is_written(nurse: Actor, case: Case) -> None:
    with pytest.raises(DomainError) as exc:
        receiving_services.save_receiver_plan(nurse, case, decisions="x", efforts="", ready_to_receive=False)
    assert exc.value.problems[0].rule == "BEHORIGHET"  # the ward's roles do not receive (Perm.CASE_RECEIVE)
    assert not ReceiverPlan.objects.exists()


def test_a_too_long_plan_is_refused_naming_the_field_and_keeps_the_text(contact: Actor, case: Case) -> None:
    client = Client()
    client.force_login(contact.user)
    long = "a" * 2001
    response = client.post(
        reverse("cases:action", args=[case.pk, "receiver-plan"]), {"decisions": long, "efforts": "ok"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "högst 2000 tecken" in body and long in body
    assert not ReceiverPlan.objects.exists()


# --- 3. who to contact --------------------------------------------------------------------------------------


def test_contact_details_next_to_each_unit_or_said_to_be_missing(contact: Actor, case: Case) -> None:
    UnitContact.objects.create(unit=unit(WARD), phone="031-390 06 10", opening_hours="Dygnet runt")
    client = Client()
    client.force_login(contact.user)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "031-390 06 10" in page and 'href="tel:0313900610"' in page
    assert "Inga kontaktuppgifter registrerade" in page  # the contact point itself has none


# --- 2. notifications -------------------------------------------------------------------------------------


def test_discharge_ready_mails_the_contact_point_at_once_with_a_link_and_no_personal_data(
    contact: Actor, case: Case, django_capture_on_commit_callbacks: Any
) -> None:
    physician = actor(Role.PHYSICIAN, WARD)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.set_discharge_ready(physician, case)
    sent = [m for m in mail.outbox if "kp@brygga.example" in m.to]
    assert len(sent) == 1
    message = sent[0]
    assert f"/arenden/{case.pk}/" in message.body
    for secret in (case.person.given_name, case.person.family_name, case.person.identifier):
        assert secret not in message.body and secret not in message.subject
    n = Notification.objects.get(user=contact.user)
    assert n.urgent and n.status == Notification.Status.SENT


def test_ordinary_events_wait_for_the_digest_and_go_out_as_one_mail(
    nurse: Actor, contact: Actor, case: Case, django_capture_on_commit_callbacks: Any
) -> None:
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.change_expected_date(
            nurse, case, (timezone.now() + dt.timedelta(days=5)).date(), "medical_condition"
        )
        services.save_planning_basis(nurse, case, **PLANNING)
    pending = Notification.objects.filter(user=contact.user, status="pending")
    assert pending.count() == 2 and not mail.outbox
    due = max(n.next_attempt_at for n in pending)
    assert timezone.localtime(due).hour in (7, 13)
    with time_machine.travel(due + dt.timedelta(minutes=1), tick=False):
        counts = notify.deliver_due()
    assert counts["sent"] == 2
    assert len(mail.outbox) == 1 and "sammanfattning" in mail.outbox[0].subject


def test_opt_out_stops_e_mail_and_sms_goes_through_the_adapter(
    contact: Actor, case: Case, django_capture_on_commit_callbacks: Any
) -> None:
    NotificationPreference.objects.create(
        user=contact.user, unit=unit(CONTACT_POINT), email=False, sms=True, phone="070-000 00 00"
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.set_discharge_ready(actor(Role.PHYSICIAN, WARD), case)
    assert not [m for m in mail.outbox if "kp@brygga.example" in m.to]
    sms = SentSms.objects.get()
    assert sms.to == "070-000 00 00" and f"/arenden/{case.pk}/" in sms.text
    assert case.person.family_name not in sms.text


def test_a_failed_delivery_is_retried_with_backoff_then_kept_as_failed(
    contact: Actor, case: Case, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.EMAIL_BACKEND = "tests.test_receiving.BrokenBackend"
    with django_capture_on_commit_callbacks(execute=True):
        services.set_discharge_ready(actor(Role.PHYSICIAN, WARD), case)
    n = Notification.objects.get(user=contact.user)
    assert n.status == "pending" and n.attempts == 1 and "SMTP nere" in n.last_error
    first_retry = n.next_attempt_at
    for _ in range(notify.MAX_ATTEMPTS - 1):
        n.refresh_from_db()
        with time_machine.travel(n.next_attempt_at + dt.timedelta(seconds=1), tick=False):
            notify.deliver_due()
    n.refresh_from_db()
    assert n.status == "failed" and n.attempts == notify.MAX_ATTEMPTS
    assert n.next_attempt_at - first_retry > dt.timedelta(minutes=10)  # backoff grew


class BrokenBackend:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: Any) -> int:
        raise OSError("SMTP nere")


def test_escalation_notifies_once_a_day(contact: Actor, case: Case) -> None:
    later = timezone.now() + dt.timedelta(hours=30)
    with time_machine.travel(later, tick=False):
        assert len(notify.notify_escalations()) == 1
        assert notify.notify_escalations() == []  # idempotent: same row, same day
    assert Notification.objects.get(user=contact.user).urgent


def test_menu_counts_the_unread_and_the_inbox_list_refreshes_only_when_changed(
    nurse: Actor, contact: Actor, case: Case
) -> None:
    client = Client()
    client.force_login(contact.user)
    page = client.get(reverse("cases:inbox"))
    html = page.content.decode()
    assert 'class="count-badge">1<' in html
    assert 'hx-trigger="every 30s' in html and 'aria-live="polite"' in html
    signature = page.context["signature"]
    same = client.get(reverse("cases:inbox"), {"del": "lista", "sig": signature})
    assert same.status_code == 204
    services.acknowledge(contact, case)
    changed = client.get(reverse("cases:inbox"), {"del": "lista", "sig": signature})
    assert changed.status_code == 200
    body = changed.content.decode()
    assert 'id="inbox-list"' in body and "hx-swap-oob" in body and "<html" not in body
    assert "count-badge" not in client.get(reverse("cases:inbox")).content.decode()


def test_an_unchanged_inbox_refresh_reads_no_person_and_logs_nothing(
    nurse: Actor, contact: Actor, case: Case
) -> None:
    """Issue 17: the open inbox asks every 30 s; when nothing changed the answer is 204 and no row is built,
    so no person is shown and no access-log entry is written. A changed list is shown and logged."""
    from brygga.access.models import AccessLogEntry

    client = Client()
    client.force_login(contact.user)
    page = client.get(reverse("cases:inbox"))
    signature = page.context["signature"]
    logged = AccessLogEntry.objects.filter(user=contact.user).count()
    assert logged >= 1  # the page itself showed the person and logged it
    for _ in range(3):
        assert client.get(reverse("cases:inbox"), {"del": "lista", "sig": signature}).status_code == 204
    assert AccessLogEntry.objects.filter(user=contact.user).count() == logged
    services.acknowledge(contact, case)
    changed = client.get(reverse("cases:inbox"), {"del": "lista", "sig": signature})
    assert changed.status_code == 200 and case.person.family_name in changed.content.decode()
    assert AccessLogEntry.objects.filter(user=contact.user, person=case.person).count() > 0
    assert AccessLogEntry.objects.filter(user=contact.user).count() > logged


def test_inbox_rows_show_running_deadlines_and_discharge_ready_time(contact: Actor, case: Case) -> None:
    services.set_discharge_ready(actor(Role.PHYSICIAN, WARD), case)
    case.refresh_from_db()
    client = Client()
    client.force_login(contact.user)
    html = client.get(reverse("cases:inbox")).content.decode()
    assert "R-UTS-1" in html and "annan enhets" in html  # the ward's deadline, shown to the municipality
    assert timezone.localtime(case.discharge_ready_at).strftime("%Y-%m-%d %H:%M") in html


def test_preferences_refuse_bad_hours_and_keep_what_was_typed(contact: Actor) -> None:
    client = Client()
    client.force_login(contact.user)
    pk = unit(CONTACT_POINT).pk
    response = client.post(
        reverse("receiving:preferences"), {f"hours-{pk}": "25", f"sms-{pk}": "on", f"phone-{pk}": ""}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Ange hela timmar" in body and "Ange mobilnummer" in body and 'value="25"' in body
    assert not NotificationPreference.objects.exists()
    ok = client.post(reverse("receiving:preferences"), {f"hours-{pk}": "8"})
    assert ok.status_code == 302
    pref = NotificationPreference.objects.get(user=contact.user)
    assert pref.email is False and pref.hours == [8]


def test_vardcentral_sees_the_sections_of_its_own_basis(nurse: Actor, case: Case) -> None:
    """The vårdcentral is the same principal (the region) and secrecy area as the ward: R-SEK-1."""
    sections = planning.sections_for(case, unit(PRIMARY_CARE))
    assert all(s.shown and s.basis is not None and s.basis.rule == "R-SEK-1" for s in sections)


def test_share_consent_helper_is_enough_for_messages_too(nurse: Actor, case: Case) -> None:
    share_consent(nurse, case.person, [unit(CONTACT_POINT)], ("health",))
    assert not planning.sections_for(case, unit(CONTACT_POINT))[0].shown  # health ≠ social situation


# --- 4. SIP from the case -----------------------------------------------------------------------------------


def summons_form(hours: int = 24) -> dict[str, str]:
    at = timezone.localtime() + dt.timedelta(hours=hours)
    return {
        "need_description": "Hemtjänst och vårdcentralens insatser",
        "meeting_at": at.strftime("%Y-%m-%dT%H:%M"),
        "location": "Vårdcentralen",
    }


def test_the_summons_on_the_case_creates_the_linked_sip_with_the_cases_units_R_SIP_K_1(
    nurse: Actor, contact: Actor, case: Case
) -> None:
    from brygga.sip.models import Sip

    consent(nurse, case, [unit(CONTACT_POINT)], ["sip"])
    vc = Client()
    vc.force_login(actor(Role.CARE_COORDINATOR, PRIMARY_CARE).user)
    response = vc.post(reverse("cases:action", args=[case.pk, "sip-summons"]), summons_form())
    assert response.status_code == 302, response.content.decode()[:3000]
    sip = Sip.objects.get(case=case)
    units = set(sip.participants.filter(unit__isnull=False).values_list("unit__name", flat=True))
    assert units == {WARD, CONTACT_POINT, PRIMARY_CARE}
    assert sip.status == "summoned"
    case.refresh_from_db()
    assert case.sip_summons_sent_at is not None  # the case's deadline is met by the same summons
    # Both link to each other; the contact point opens the SIP and the person of its own case.
    kp = Client()
    kp.force_login(contact.user)
    page = kp.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert reverse("sip:detail", args=[sip.pk]) in page
    sip_page = kp.get(reverse("sip:detail", args=[sip.pk]))
    assert (
        sip_page.status_code == 200 and reverse("cases:detail", args=[case.pk]) in sip_page.content.decode()
    )
    assert kp.get(reverse("web:person_detail", args=[case.person_id])).status_code == 200


def test_summons_without_consent_is_refused_with_the_rule_and_creates_no_sip_R_SEK_2(case: Case) -> None:
    from brygga.sip.models import Sip

    vc = Client()
    vc.force_login(actor(Role.CARE_COORDINATOR, PRIMARY_CARE).user)
    response = vc.post(reverse("cases:action", args=[case.pk, "sip-summons"]), summons_form())
    assert response.status_code in (400, 403)  # the page re-renders with the refusal
    body = response.content.decode()
    assert "R-SEK-2" in body and "Hemtjänst och vårdcentralens insatser" in body  # typed text kept
    assert not Sip.objects.exists()
    case.refresh_from_db()
    assert case.sip_summons_sent_at is None


def test_only_the_vardcentral_summons_from_the_case_R_FVK_2(contact: Actor, case: Case) -> None:
    from brygga.receiving.sip import summon_sip_from_case
    from brygga.sip.models import Sip

    with pytest.raises(DomainError):
        summon_sip_from_case(
            contact, case, need_description="x", meeting_at=timezone.now() + dt.timedelta(days=1)
        )
    assert not Sip.objects.exists()


# --- 5. the case page: one table of states × actions ----------------------------------------------------------


def test_the_table_decides_both_the_page_and_the_service(nurse: Actor, case: Case) -> None:
    from brygga.cases import actions

    vc = actor(Role.CARE_COORDINATOR, PRIMARY_CARE)
    vc_participant = services.participant_for(vc, case)
    allowed = actions.allowed(vc, case, vc_participant)
    assert "checklist" not in allowed and "discharge" not in allowed  # the ward's steps
    assert {"coordinator", "sip-summons", "receiver-plan", "reject"} <= allowed
    # The service refuses what the page does not show, and nothing changes.
    with pytest.raises(DomainError) as exc:
        services.set_checklist_item(vc, case, "transport")
    assert exc.value.problems[0].rule == "BEHORIGHET"  # no Perm.CASE_UPDATE in the vårdcentral's role
    case.refresh_from_db()
    assert case.checklist == {}
    client = Client()
    client.force_login(vc.user)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Ångra" not in page and "Markera klar" not in page
    assert 'id="coordinator"' in page and 'id="discharge"' not in page
    # After discharge only closing is left for the ward.
    nurse_allowed = actions.allowed(nurse, case, services.participant_for(nurse, case))
    assert {"discharge", "death", "cancel-case"} <= nurse_allowed and "close" not in nurse_allowed


def test_irreversible_steps_need_the_separate_confirmation_and_change_nothing_without_it(
    nurse: Actor, case: Case
) -> None:
    client = Client()
    client.force_login(nurse.user)
    url = reverse("cases:action", args=[case.pk, "cancel-case"])
    refused = client.post(url, {"reason": "entered_in_error"})
    assert refused.status_code == 400 and "Bekräfta" in refused.content.decode()
    case.refresh_from_db()
    assert case.status == Case.Status.ADMITTED
    assert client.post(url, {"reason": "entered_in_error", "confirm": "on"}).status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.CANCELLED


def test_the_page_leads_with_the_next_step_for_my_unit(contact: Actor, case: Case) -> None:
    client = Client()
    client.force_login(contact.user)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    summary_end = page.index('id="todo"')
    assert "Nästa steg för Göteborg kontaktpunkt" in page[:summary_end]
    assert 'href="#acknowledge"' in page[:summary_end]
    services.acknowledge(contact, case)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'href="#receiver-plan"' in page[: page.index('id="todo"')]


# --- 3. choosing a unit by name, municipality or kind, never by typing an HSA-id --------------------------


def test_a_recipient_is_chosen_from_the_searchable_list_R_INS_7(nurse: Actor, case: Case) -> None:
    from brygga.cases.models import Participant

    client = Client()
    client.force_login(nurse.user)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    home = unit("Göteborg hemsjukvård")
    label = f"Göteborg hemsjukvård — Göteborg, Hemsjukvård ({home.hsa_id})"
    # A plain select (the combobox's base, usable without JavaScript) holding every receiving unit.
    assert 'id="add-unit" name="unit"' in page and f'<option value="{home.hsa_id}">{label}</option>' in page
    assert "data-combobox=" in page and "brygga/combobox.js" in page and "HSA-id för enheten" not in page
    response = client.post(reverse("cases:action", args=[case.pk, "add-recipient"]), {"unit": home.hsa_id})
    assert response.status_code == 302
    assert Participant.objects.filter(case=case, unit=home, status="active").exists()
    # The option's text, as scripts and the earlier datalist sent it, names the unit too.
    social = unit("Göteborg biståndsenhet")
    response = client.post(
        reverse("cases:action", args=[case.pk, "add-recipient"]), {"unit": social.picker_label}
    )
    assert response.status_code == 302
    assert Participant.objects.filter(case=case, unit=social, status="active").exists()
    # A typed name that is no unit is refused naming the field, and nothing is added.
    before = Participant.objects.filter(case=case).count()
    refused = client.post(reverse("cases:action", args=[case.pk, "add-recipient"]), {"unit": "Ingen sådan"})
    assert refused.status_code == 400 and "finns inte eller är inte aktiv" in refused.content.decode()
    assert Participant.objects.filter(case=case).count() == before


def test_the_unit_search_finds_by_name_municipality_and_kind(nurse: Actor) -> None:
    """The combobox's server side: every word must match the name, the municipality or the kind's label;
    ``kinds`` narrows; at most 20 rows and the total; signed-in users only."""
    client = Client()
    url = reverse("web:unit_search")
    assert client.get(url, {"q": "hem"}).status_code in (302, 403)  # not signed in: no answer
    client.force_login(nurse.user)

    def search(**params: str) -> dict[str, Any]:
        response = client.get(url, params)
        assert response.status_code == 200 and response["Content-Type"] == "application/json"
        return dict(response.json())

    home = unit("Göteborg hemsjukvård")
    by_name = search(q="göteborg hemsjukv")
    assert [r["hsa_id"] for r in by_name["results"]] == [home.hsa_id] and by_name["count"] == 1
    row = by_name["results"][0]
    assert row["label"] == home.picker_label and row["id"] == home.pk and row["municipality"] == "Göteborg"
    # By municipality and kind label together (kind "Hemsjukvård" matched through its Swedish label).
    by_kind = search(q="Göteborg socialtjänst")
    assert by_kind["results"] and all(
        r["municipality"] == "Göteborg" and r["kind"] == "Socialtjänst" for r in by_kind["results"]
    )
    # kinds narrows: a ward is not offered as a recipient.
    wards = search(q="Sahlgrenska", kinds="primary_care,municipal_contact,home_health,social_services")
    assert all(r["kind"] != "Vårdavdelning" for r in wards["results"])
    assert search(q="Sahlgrenska")["results"]  # without kinds the wards are found
    # At most 20 rows, with the total.
    many = search(q="a")
    assert len(many["results"]) == 20 and many["count"] > 20
    assert search(q="zzzz-ingen-sådan") == {"count": 0, "results": []}


def test_the_local_administrator_edits_contact_details_of_the_own_principals_units_only() -> None:
    from tests.test_operations import admin_client

    client, _user = admin_client(Role.LOCAL_ADMIN, CONTACT_POINT, "lokaladmin-kontakt")
    own, foreign = unit("Göteborg hemsjukvård"), unit("Borås kontaktpunkt")
    add = reverse("admin:receiving_unitcontact_add")
    response = client.post(add, {"unit": own.pk, "phone": "031-390 06 30", "contact_roles": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert UnitContact.objects.get(unit=own).phone == "031-390 06 30"
    refused = client.post(add, {"unit": foreign.pk, "phone": "033-000"})
    assert refused.status_code == 200  # the form says the choice is not valid
    assert not UnitContact.objects.filter(unit=foreign).exists()


def test_only_members_who_may_read_the_units_cases_today_are_notified(
    nurse: Actor, contact: Actor, case: Case, django_capture_on_commit_callbacks: Any
) -> None:
    """Issue 17 (the notified members read as values by one reused statement): the same people as
    ``Membership.allows`` — a membership within its dates at an active unit, a role that reads cases, an
    active person who is not a system account. A deactivated unit's members are told nothing (fail closed)."""
    today = timezone.localdate()
    others = {
        "ended": (Role.MUNICIPAL_CONTACT, {"valid_until": today - dt.timedelta(days=1)}),
        "not-yet": (Role.MUNICIPAL_CONTACT, {"valid_from": today + dt.timedelta(days=1)}),
        "statistics": (Role.STATISTICS, {}),
        "inactive": (Role.MUNICIPAL_CONTACT, {}),
        "system": (Role.MUNICIPAL_CONTACT, {}),
        "ends-today": (Role.MUNICIPAL_CONTACT, {"valid_until": today}),
    }
    for name, (role, dates) in others.items():
        member = actor(role, CONTACT_POINT, username=f"kp-{name}")
        member.user.email = f"{name}@brygga.example"
        member.user.is_active = name != "inactive"
        member.user.is_service_account = name == "system"
        member.user.save()
        if dates:
            Membership.objects.filter(user=member.user, unit__name=CONTACT_POINT).update(**dates)
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        services.change_expected_date(nurse, case, today + dt.timedelta(days=5), "medical_condition")
    told = set(Notification.objects.values_list("user__username", flat=True))
    assert {"kp", "kp-ends-today"} <= told
    assert not told & {f"kp-{name}" for name in others if name != "ends-today"}

    Notification.objects.all().delete()
    Unit.objects.filter(name=CONTACT_POINT).update(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_expected_date(nurse, case, today + dt.timedelta(days=6), "medical_condition")
    assert not Notification.objects.filter(user__username__startswith="kp").exists()
