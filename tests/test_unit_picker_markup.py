"""The unit picker built in Python (``unit_picker``, issue 17) writes exactly what its template wrote, from a
Django template and from a Jinja2 body, selected or not, valid or refused, by HSA-id or by id."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils.html import format_html

from brygga.core.jinja import environment
from brygga.organisations import directory
from brygga.organisations.models import Unit
from tests.factories import HOME, PRIMARY_CARE, unit

pytestmark = pytest.mark.django_db

# web/_unit_picker.html as it was before the picker moved to Python: the reference markup.
BEFORE = (
    "{% load i18n unit_pickers %}"
    '<select id="{{ picker_id }}" name="{{ picker_name }}" aria-describedby="{{ picker_id }}-hint"'
    " data-combobox=\"{% url 'web:unit_search' %}{% if picker_kinds %}?kinds={{ picker_kinds }}{% endif %}\""
    " data-combobox-value=\"{{ picker_value|default:'hsa_id' }}\""
    " data-text-results=\"{% translate '{n} enheter. Pil upp och ner flyttar, Enter väljer.' %}\""
    " data-text-none=\"{% translate 'Ingen enhet matchar.' %}\""
    " data-text-failed=\"{% translate 'Sökningen gick inte att göra. Välj i listan eller försök igen.' %}\""
    " data-text-chosen=\"{% translate 'Vald: {unit}' %}\" {{ picker_invalid }}>\n"
    '  <option value="">{% translate "— välj enhet —" %}</option>\n'
    '  {% unit_options picker_units picker_value|default:"hsa_id" picker_selected %}\n'
    "</select>\n"
)


def _cases() -> list[dict[str, object]]:
    home = unit(HOME)
    home.name = 'Hemsjukvård <Öst> & "Väst"'
    home.save()  # the directory forgets its cached units
    chosen = unit(PRIMARY_CARE)
    units = directory.units_of_kinds(
        {Unit.Kind.HOME_HEALTH, Unit.Kind.PRIMARY_CARE, Unit.Kind.MUNICIPAL_CONTACT}
    )
    refused = format_html('aria-invalid="true" aria-describedby="error-{}-{}"', "notice", "recipients")
    return [
        {"picker_id": "add-unit", "picker_name": "unit", "picker_units": units},
        {
            "picker_id": "rcpt-pick",
            "picker_name": "recipients_pick",
            "picker_units": units,
            "picker_kinds": "home_care,primary_care",
            "picker_selected": chosen.hsa_id,
            "picker_invalid": refused,
        },
        {
            "picker_id": "ap-unit",
            "picker_name": "unit",
            "picker_units": units,
            "picker_value": "id",
            "picker_selected": chosen.pk,
        },
        {"picker_id": "empty", "picker_name": "unit", "picker_units": []},
    ]


def test_the_picker_writes_what_its_template_wrote_from_both_engines() -> None:
    body = environment().from_string(
        "{{ unit_picker(picker_id, picker_name, picker_units, picker_value, picker_kinds, picker_selected,"
        " picker_invalid) }}"
    )
    for values in _cases():
        before = Template(BEFORE).render(Context(values, autoescape=True))
        if values["picker_units"]:
            assert "&lt;Öst&gt; &amp; &quot;Väst&quot; — Göteborg" in before
        assert render_to_string("web/_unit_picker.html", values) == before, values
        assert body.render(**values) == before, values  # missing names are Jinja2's undefined values
