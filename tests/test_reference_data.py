"""The organisation registry: 49 municipalities in six delregioner (15/4/5/2/8/15), populations per year,
idempotent loading, and SCB's population table imported per year, all or nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from brygga.core.errors import DomainError
from brygga.organisations.hsa import hsa_id_problem
from brygga.organisations.models import Municipality, Organisation, PopulationFigure, Site, Subregion, Unit
from brygga.organisations.services import import_scb_population, load_reference_data

pytestmark = pytest.mark.django_db


def test_49_municipalities_in_six_delregioner() -> None:
    assert Municipality.objects.count() == 49
    counts = {s.name: s.municipalities.count() for s in Subregion.objects.all()}
    assert counts == {
        "Fyrbodal": 15,
        "SIMBA": 4,
        "Göteborgsområdet": 5,
        "SAMLA": 2,
        "Södra Älvsborg": 8,
        "Skaraborg": 15,
    }


def test_kommunalforbund_vastkom_region_and_hospitals() -> None:
    assert Organisation.objects.filter(kind=Organisation.Kind.ASSOCIATION).count() == 4
    assert Organisation.objects.filter(kind=Organisation.Kind.REGION).get().short_name == "VGR"
    assert Organisation.objects.filter(name="VästKom").exists()
    assert Municipality.objects.get(name="Lilla Edet").association.short_name == "GR"
    assert Municipality.objects.get(name="Lilla Edet").subregion.name == "Fyrbodal"
    su = Organisation.objects.get(name="Sahlgrenska Universitetssjukhuset")
    assert su.principal is not None and su.principal.short_name == "VGR"
    assert set(Site.objects.filter(organisation=su).values_list("name", flat=True)) == {
        "Sahlgrenska",
        "Östra sjukhuset",
        "Mölndals sjukhus",
    }


def test_every_municipality_has_contact_point_home_health_social_services_and_a_vardcentral() -> None:
    for kind in (
        Unit.Kind.MUNICIPAL_CONTACT,
        Unit.Kind.HOME_HEALTH,
        Unit.Kind.SOCIAL_SERVICES,
        Unit.Kind.PRIMARY_CARE,
    ):
        assert Unit.objects.filter(kind=kind).values("municipality").distinct().count() == 49
    assert Unit.objects.filter(kind=Unit.Kind.WARD).count() >= 20


def test_every_unit_has_a_valid_hsa_id() -> None:
    assert [u.hsa_id for u in Unit.objects.all() if hsa_id_problem(u.hsa_id)] == []


def test_population_from_the_shipped_file_with_its_date_and_source() -> None:
    gbg = Municipality.objects.get(scb_code="1480")
    figure = gbg.population_for(2024)
    assert figure is not None and figure.population > 500_000
    assert figure.reference_date.isoformat() == "2024-12-31"
    stenungsund = Municipality.objects.get(name="Stenungsund").population_figures.get()
    assert stenungsund.reference_date.isoformat() == "2024-09-30"  # an older figure keeps its own date


def test_loading_twice_changes_nothing() -> None:
    before = (Organisation.objects.count(), Unit.objects.count(), PopulationFigure.objects.count())
    load_reference_data()
    call_command("load_reference_data", verbosity=0)
    assert (Organisation.objects.count(), Unit.objects.count(), PopulationFigure.objects.count()) == before


def _scb_table(year: int, overrides: dict[str, str] | None = None, drop: str | None = None) -> bytes:
    lines = [
        f'"region";"Folkmängd {year}"',
        '"14 Västra Götalands län";"1750000"',
        '"0180 Stockholm";"990000"',
    ]
    for m in Municipality.objects.order_by("scb_code"):
        if m.scb_code == drop:
            continue
        value = (overrides or {}).get(m.scb_code, str(10_000 + int(m.scb_code)))
        lines.append(f'"{m.scb_code} {m.name}";"{value}"')
    return "\n".join(lines).encode("iso-8859-1")


def test_scb_import_for_a_year_stores_each_municipality() -> None:
    result = import_scb_population(_scb_table(2025), 2025, "SCB BE0101 2025-12-31")
    assert result.imported == 49
    assert result.ignored_regions == 2  # the county row and Stockholm
    figure = Municipality.objects.get(scb_code="1480").population_for(2025)
    assert figure is not None and figure.population == 11480
    assert figure.reference_date.isoformat() == "2025-12-31"
    # The 2024 figures stay: the economy uses the year it is asked for.
    assert Municipality.objects.get(scb_code="1480").population_for(2024).population != 11480  # type: ignore[union-attr]


def test_scb_import_reimport_updates_without_duplicating() -> None:
    import_scb_population(_scb_table(2025), 2025, "first")
    import_scb_population(_scb_table(2025, {"1480": "12345"}), 2025, "second")
    assert PopulationFigure.objects.filter(year=2025).count() == 49
    assert Municipality.objects.get(scb_code="1480").population_for(2025).population == 12345  # type: ignore[union-attr]


def test_scb_import_with_a_missing_municipality_or_bad_number_changes_nothing() -> None:
    with pytest.raises(DomainError) as excinfo:
        import_scb_population(_scb_table(2025, {"1490": ".."}, drop="1499"), 2025, "bad")
    rules = {p.rule for p in excinfo.value.problems}
    assert rules == {"SCB-FOLKMANGD", "SCB-KOMMUN-SAKNAS"}
    assert any("Falköping" in p.message for p in excinfo.value.problems)
    assert not PopulationFigure.objects.filter(year=2025).exists()


def test_scb_import_for_a_year_not_in_the_file_is_refused() -> None:
    with pytest.raises(DomainError) as excinfo:
        import_scb_population(_scb_table(2025), 2026, "wrong year")
    assert excinfo.value.problems[0].rule == "SCB-AR"
    assert not PopulationFigure.objects.filter(year=2026).exists()
