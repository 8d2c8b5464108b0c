"""A page body rendered by Jinja2 writes what Django's engine writes (issue 17 item 2, ADR 0705): the same
escaping, localization, dates, missing values, translations with values, CSRF input and Django includes. The
whole case page is compared with snapshots in tests/test_page_content.py; these pin the bridge's rules one
by one, each against Django's engine rendering the same values."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.template import Context, Template
from django.urls import get_script_prefix, reverse, set_script_prefix
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from brygga.cases.models import CaseEvent, Participant
from brygga.cases.selectors import _end_of_day
from brygga.core import jinja
from brygga.inbox.presenters import _when
from tests.test_i18n_catalogue import ENTRIES

QUOTED = 'O\'Brien & "Söner" <b>'


def django(source: str, values: dict[str, Any]) -> str:
    return Template("{% load i18n cases_tags %}" + source).render(Context(values))


def jinja_(source: str, values: dict[str, Any]) -> str:
    return str(jinja.environment().from_string(source).render(jinja.render_values(values)))


@pytest.mark.parametrize(
    "value",
    [
        QUOTED,
        None,
        0,
        4711,
        True,
        3.5,
        gettext_lazy("Vet ej"),
        dt.date(2026, 12, 7),
        ["a", "<b>"],
    ],
    ids=repr,
)
def test_a_value_is_written_as_djangos_engine_writes_it(value: object) -> None:
    assert jinja_("{{ v }}", {"v": value}) == django("{{ v }}", {"v": value})


def test_a_missing_value_and_an_attribute_of_a_missing_value_are_empty_as_in_django() -> None:
    assert jinja_("[{{ nothing }}|{{ nothing.unit.name }}|{{ none.unit }}]", {"none": None}) == django(
        "[{{ nothing }}|{{ nothing.unit.name }}|{{ none.unit }}]", {"none": None}
    )


def test_dates_are_written_in_local_time_like_djangos_date_filter() -> None:
    # 23:30 UTC is the next day in Stockholm: the filter must see local time, as Django's expects_localtime.
    moment = dt.datetime(2026, 12, 6, 23, 30, tzinfo=dt.UTC)
    expected = django('{{ t|date:"Y-m-d H:i" }}', {"t": moment})
    assert expected == "2026-12-07 00:30"
    assert jinja_('{{ t|date("Y-m-d H:i") }}', {"t": moment}) == expected
    assert jinja_('{{ t|date("Y-m-d")|default("—") }}', {"t": None}) == django(
        '{{ t|date:"Y-m-d"|default:"—" }}', {"t": None}
    )


@pytest.mark.parametrize("zone", ["Europe/Stockholm", "UTC", "America/St_Johns"])
def test_the_fast_date_format_writes_what_the_filter_writes_across_zones_and_clock_changes(zone: str) -> None:
    """``date("Y-m-d H:i")`` of an aware datetime goes through ``isoformat`` (issue 17), and so does the inbox
    rows' ``_when`` with the zone read once per list: both must agree with Django's filter on both sides of a
    daylight-saving change, at midnight, with seconds and microseconds, far back and far ahead, and leave naive
    and other values to the filter. The end of an expected discharge day (R-UTS-1, R-FVK-1) in the zone passed
    in is ``make_aware``'s."""
    moments: list[object] = [
        dt.datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC),
        dt.datetime(1000, 1, 2, 12, 0, tzinfo=dt.UTC),
        dt.datetime(9999, 12, 30, 12, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=-9, minutes=-30))),
        dt.datetime(2026, 6, 1, 12, 0),  # noqa: DTZ001 — naive: left to the filter
    ]
    with timezone.override(zone):
        for moment in moments:
            expected = django('{{ t|date:"Y-m-d H:i" }}', {"t": moment})
            assert jinja_('{{ t|date("Y-m-d H:i") }}', {"t": moment}) == expected, (zone, moment)
            assert _when(moment, tz=timezone.get_current_timezone()) == expected, (zone, moment)
            assert _when(moment, "c") == django("{{ t|date:'c' }}", {"t": moment}), (zone, moment)
        for day in (dt.date(2026, 3, 29), dt.date(2026, 10, 25), dt.date(2026, 12, 31)):
            assert _end_of_day(day, timezone.get_current_timezone()) == timezone.make_aware(
                dt.datetime.combine(day, dt.time(23, 59, 59))  # noqa: DTZ001
            )
            assert _end_of_day(day) == _end_of_day(day, timezone.get_current_timezone())


def test_options_write_what_the_option_loop_writes() -> None:
    items = [
        SimpleNamespace(pk=7, name=QUOTED),
        SimpleNamespace(pk=1234567, name="Avdelning 5"),
        SimpleNamespace(pk="x&y", name=gettext_lazy("Vårdavdelning")),
    ]
    loop = '{% for w in wards %}<option value="{{ w.pk }}">{{ w.name }}</option>{% endfor %}'
    expected = django(loop, {"wards": items})
    assert "&quot;Söner&quot;" in expected
    assert jinja_("{{ options(wards) }}", {"wards": items}) == expected
    assert jinja_("{{ options(wards) }}", {"wards": []}) == ""


@pytest.mark.parametrize("language", ["sv", "en"])
def test_display_writes_what_get_display_returns_in_the_active_language(language: str) -> None:
    """``x|display("kind")`` (issue 17) is ``x.get_kind_display()``: every choice of the case history's
    kinds and a participation's statuses, a value that is no choice, and nothing for a missing object."""
    events = [CaseEvent(kind=kind) for kind in CaseEvent.Kind.values] + [CaseEvent(kind="okänd")]
    participants = [Participant(status=status) for status in Participant.Status.values]
    with translation.override(language):
        for event in events:
            assert jinja_('{{ e|display("kind") }}', {"e": event}) == django(
                "{{ e.get_kind_display }}", {"e": event}
            )
        for participant in participants:
            assert jinja_('{{ p|display("status") }}', {"p": participant}) == django(
                "{{ p.get_status_display }}", {"p": participant}
            )
        assert jinja_('{{ missing|display("kind") }}', {}) == ""
    with translation.override("en"):
        assert jinja_('{{ e|display("kind") }}', {"e": events[0]}) == str(events[0].get_kind_display())
        assert jinja_('{{ e|display("kind") }}', {"e": events[0]}) != events[0].kind


def test_a_translated_text_with_values_escapes_the_values_as_blocktranslate_does() -> None:
    with translation.override("en"):
        expected = django(
            "{% blocktranslate with unit=name %}Nästa steg för {{ unit }}{% endblocktranslate %}",
            {"name": QUOTED},
        )
        got = jinja_('{{ _("Nästa steg för %(unit)s")|fmt(unit=name) }}', {"name": QUOTED})
    assert got == expected
    assert "Next step" in got and "&#x27;" in got and "<b>" not in got


def test_a_translation_follows_the_active_language_at_each_render() -> None:
    """The texts are remembered per language: a render in English after one in Swedish is English."""
    source = '{{ _("Avvisa") }}'
    with translation.override("sv"):
        swedish = jinja_(source, {})
    with translation.override("en"):
        english = jinja_(source, {})
        expected = django('{% translate "Avvisa" %}', {})
    assert swedish == "Avvisa"
    assert english == expected != swedish


def test_the_csrf_input_is_djangos() -> None:
    values = {"csrf_token": "tok'en"}
    assert jinja_("{{ csrf_input() }}", values) == django("{% csrf_token %}", values)
    assert jinja_("[{{ csrf_input() }}]", {"csrf_token": "NOTPROVIDED"}) == "[]"


def test_a_django_include_sees_the_body_s_values_and_its_own() -> None:
    from brygga.core.errors import Problem

    values = {"errors": [Problem("reason", "R-INS-7", QUOTED)], "action": "reject", "csrf_token": "x"}
    got = jinja_('{{ django_include("errors.html", action=missing.value) }}', values)
    assert got == django('{% include "errors.html" with action=missing.value %}', values)
    assert "R-INS-7" in got and "O&#x27;Brien" in got


def test_the_form_helpers_mark_only_the_refused_form_s_fields() -> None:
    """ADR 0007 on a Jinja body: the refused form's field gets its message and aria-invalid; the same field
    name in another form, and every field after a successful render, get nothing."""
    refused = {"action": "reject", "field_errors": {"reason": "Välj ett skäl."}}
    source = '{{ field_error("reject", "reason") }}|{{ invalid("reject", "reason") }}|{{ invalid("meeting", "reason") }}'
    assert jinja_(source, refused) == django(
        '{% field_error "reject" "reason" %}|{% invalid "reject" "reason" %}|{% invalid "meeting" "reason" %}',
        refused,
    )
    assert 'aria-invalid="true"' in jinja_(source, refused)
    assert jinja_(source, {"action": "", "field_errors": {}}) == "||"


def test_every_text_of_a_jinja_body_is_in_the_catalogue_where_makemessages_finds_it() -> None:
    """``makemessages`` reads a Jinja body as a Django template: it finds ``{{ _("…") }}`` only where ``_(``
    opens the braces. A text elsewhere (inside a filter's argument) would be dropped from the catalogue at
    the next ``make messages`` and shown untranslated."""
    catalogue = {entry["msgid"] for entry in ENTRIES}
    bodies = sorted(Path(jinja.TEMPLATES).rglob("*.jinja.html"))
    assert bodies
    for body in bodies:
        source = body.read_text(encoding="utf-8")
        opening = re.findall(r'\{\{ _\("((?:[^"\\]|\\.)*)"\)', source)
        anywhere = re.findall(r'_\("((?:[^"\\]|\\.)*)"\)', source)
        assert opening, body
        assert sorted(anywhere) == sorted(opening), f"{body.name}: a text not at the opening of {{{{ }}}}"
        assert [text for text in opening if text.replace('\\"', '"') not in catalogue] == [], body.name


def test_url_bound_per_render_follows_the_script_prefix_and_csrf_input_reads_the_token_once_when_used() -> (
    None
):
    """``url`` and ``csrf_input`` are bound to the request at each render (issue 17): the addresses must still
    carry the request's script prefix, and the token must be read only by a body that writes a form (reading
    it marks the response for the CSRF cookie)."""
    prefix = get_script_prefix()
    try:
        set_script_prefix("/brygga/")
        assert jinja_("{{ url('cases:inbox') }}", {}) == reverse("cases:inbox") == "/brygga/arenden/"
    finally:
        set_script_prefix(prefix)
    assert jinja_("{{ url('cases:inbox') }}", {}) == reverse("cases:inbox")
    reads: list[int] = []

    class Token:
        def __str__(self) -> str:
            reads.append(1)
            return "abc&"

        def __bool__(self) -> bool:
            reads.append(1)
            return True

    assert jinja_("<p></p>", {"csrf_token": Token()}) == "<p></p>" and reads == []
    twice = jinja_("{{ csrf_input() }}{{ csrf_input() }}", {"csrf_token": Token()})
    assert twice == '<input type="hidden" name="csrfmiddlewaretoken" value="abc&amp;">' * 2
    assert jinja_("[{{ csrf_input() }}]", {"csrf_token": "NOTPROVIDED"}) == "[]"
