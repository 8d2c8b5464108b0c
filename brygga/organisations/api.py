from __future__ import annotations

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Router, Schema

from brygga.organisations.models import Municipality, Organisation, PopulationFigure, Unit

router = Router(tags=["Organisationer"])


class OrganisationOut(Schema):
    id: int
    name: str
    short_name: str
    kind: str
    principal_id: int | None


class PopulationOut(Schema):
    year: int
    population: int
    reference_date: str
    source: str


class MunicipalityOut(Schema):
    scb_code: str
    name: str
    subregion: str
    association: str
    populations: list[PopulationOut]


class UnitOut(Schema):
    id: int
    hsa_id: str
    name: str
    kind: str
    organisation: str
    municipality_code: str
    site: str | None


@router.get("/organisations", response=list[OrganisationOut])
def list_organisations(request: HttpRequest) -> list[Organisation]:
    return list(Organisation.objects.all())


@router.get("/municipalities", response=list[MunicipalityOut])
def list_municipalities(request: HttpRequest) -> list[dict[str, object]]:
    municipalities = Municipality.objects.select_related("subregion", "association").prefetch_related(
        Prefetch("population_figures", queryset=PopulationFigure.objects.order_by("-year"))
    )
    return [
        {
            "scb_code": m.scb_code,
            "name": m.name,
            "subregion": m.subregion.name,
            "association": m.association.short_name,
            "populations": [
                {
                    "year": p.year,
                    "population": p.population,
                    "reference_date": p.reference_date.isoformat(),
                    "source": p.source,
                }
                for p in m.population_figures.all()
            ],
        }
        for m in municipalities
    ]


@router.get("/units", response=list[UnitOut])
def list_units(
    request: HttpRequest, kind: str | None = None, municipality: str | None = None, q: str | None = None
) -> list[dict[str, object]]:
    units = Unit.objects.filter(is_active=True).select_related("organisation", "municipality", "site")
    if kind:
        units = units.filter(kind=kind)
    if municipality:
        units = units.filter(municipality__scb_code=municipality)
    if q:
        units = units.filter(name__icontains=q)
    return [
        {
            "id": u.pk,
            "hsa_id": u.hsa_id,
            "name": u.name,
            "kind": u.kind,
            "organisation": u.organisation.name,
            "municipality_code": u.municipality.scb_code,
            "site": u.site.name if u.site else None,
        }
        for u in units
    ]
