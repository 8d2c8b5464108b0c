"""Loading and importing the organisation registry. Each function is idempotent: running it again changes
nothing that is already right and never duplicates."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from brygga.core.errors import DomainError, Problem
from brygga.core.identifiers import luhn_check_digit
from brygga.organisations import reference as ref
from brygga.organisations.models import Municipality, Organisation, PopulationFigure, Site, Subregion, Unit

DATA_DIR = Path(__file__).parent / "data"
MUNICIPALITIES_CSV = DATA_DIR / "vg-municipalities.csv"


def synthetic_org_number(prefix: str, seed: str) -> str:
    """A Luhn-valid ten-digit number for demo organisations: prefix + seed digits + check digit."""
    body = (prefix + seed).ljust(9, "0")[:9]
    return body + luhn_check_digit(body)


def unit_hsa_id(org_number: str, code: str) -> str:
    return f"SE{org_number}-{code}"[:31]


@dataclass
class LoadReport:
    organisations: int = 0
    municipalities: int = 0
    units: int = 0
    population_figures: int = 0


@transaction.atomic
def load_reference_data(csv_path: Path = MUNICIPALITIES_CSV) -> LoadReport:
    report = LoadReport()
    region, _c = Organisation.objects.update_or_create(
        name=ref.REGION_NAME,
        defaults={
            "short_name": ref.REGION_SHORT,
            "kind": Organisation.Kind.REGION,
            "org_number": ref.REGION_ORG_NUMBER,
        },
    )
    Organisation.objects.update_or_create(
        name=ref.VASTKOM[0],
        defaults={
            "short_name": ref.VASTKOM[1],
            "kind": Organisation.Kind.MUNICIPAL_COOPERATION,
            "org_number": synthetic_org_number("22200", "1"),
        },
    )
    subregions = {}
    for name, slug in ref.SUBREGIONS:
        subregions[name], _c = Subregion.objects.update_or_create(slug=slug, defaults={"name": name})
    associations = {}
    for index, (csv_name, (org_name, short)) in enumerate(ref.ASSOCIATIONS.items()):
        associations[csv_name], _c = Organisation.objects.update_or_create(
            name=org_name,
            defaults={
                "short_name": short,
                "kind": Organisation.Kind.ASSOCIATION,
                "org_number": synthetic_org_number("22210", str(index)),
            },
        )

    rows = read_municipality_csv(csv_path)
    municipalities: dict[str, Municipality] = {}
    for row in rows:
        org, _c = Organisation.objects.update_or_create(
            name=f"{row['name']}s kommun" if not row["name"].endswith("s") else f"{row['name']} kommun",
            defaults={
                "short_name": row["name"],
                "kind": Organisation.Kind.MUNICIPALITY,
                "org_number": synthetic_org_number("212000", row["kommunkod"][1:]),
            },
        )
        municipality, _c = Municipality.objects.update_or_create(
            scb_code=row["kommunkod"],
            defaults={
                "name": row["name"],
                "organisation": org,
                "subregion": subregions[row["delregion"]],
                "association": associations[row["kommunalforbund"]],
            },
        )
        municipalities[municipality.scb_code] = municipality
        reference_date = dt.date.fromisoformat(row["population_date"])
        PopulationFigure.objects.update_or_create(
            municipality=municipality,
            year=reference_date.year,
            defaults={
                "population": int(row["population"]),
                "reference_date": reference_date,
                "source": row["population_source"],
            },
        )
        report.population_figures += 1
    report.municipalities = len(municipalities)

    _load_units(region, municipalities, report)
    report.organisations = Organisation.objects.count()
    return report


def _load_units(region: Organisation, municipalities: dict[str, Municipality], report: LoadReport) -> None:
    def upsert_unit(hsa_id: str, **fields: object) -> None:
        Unit.objects.update_or_create(hsa_id=hsa_id, defaults=fields)
        report.units += 1

    for group_index, (group_name, (short, sites)) in enumerate(ref.HOSPITAL_GROUPS.items()):
        group, _c = Organisation.objects.update_or_create(
            name=group_name,
            defaults={
                "short_name": short,
                "kind": Organisation.Kind.HOSPITAL_GROUP,
                "principal": region,
                "org_number": ref.REGION_ORG_NUMBER,
            },
        )
        for site_index, (site_name, scb_code) in enumerate(sites):
            site, _c = Site.objects.update_or_create(
                name=site_name, defaults={"organisation": group, "municipality": municipalities[scb_code]}
            )
            wards = ref.WARDS + (ref.LARGE_SITE_EXTRA_WARDS if site_name in ref.LARGE_SITES else [])
            for ward_name, ward_code in wards:
                upsert_unit(
                    unit_hsa_id(ref.REGION_ORG_NUMBER, f"S{group_index}{site_index}{ward_code}"),
                    name=f"{site_name}, {ward_name.lower()}",
                    kind=Unit.Kind.WARD,
                    organisation=group,
                    municipality=municipalities[scb_code],
                    site=site,
                )

    primary_care, _c = Organisation.objects.update_or_create(
        name=ref.PRIMARY_CARE_ORG[0],
        defaults={
            "short_name": ref.PRIMARY_CARE_ORG[1],
            "kind": Organisation.Kind.PRIMARY_CARE,
            "principal": region,
            "org_number": ref.REGION_ORG_NUMBER,
        },
    )
    for code, municipality in municipalities.items():
        upsert_unit(
            unit_hsa_id(ref.REGION_ORG_NUMBER, f"VC{code}"),
            name=f"Närhälsan {municipality.name} vårdcentral",
            kind=Unit.Kind.PRIMARY_CARE,
            organisation=primary_care,
            municipality=municipality,
        )
        org = municipality.organisation
        for kind, label, suffix in (
            (Unit.Kind.MUNICIPAL_CONTACT, "kontaktpunkt", "KP"),
            (Unit.Kind.HOME_HEALTH, "hemsjukvård", "HSV"),
            (Unit.Kind.SOCIAL_SERVICES, "biståndsenhet", "SOC"),
        ):
            upsert_unit(
                unit_hsa_id(org.org_number, f"{suffix}{code}"),
                name=f"{municipality.name} {label}",
                kind=kind,
                organisation=org,
                municipality=municipality,
            )
    gothenburg = municipalities["1480"]
    upsert_unit(
        unit_hsa_id(ref.REGION_ORG_NUMBER, "GITS01"),
        name="GITS kansli",
        kind=Unit.Kind.ADMINISTRATION,
        organisation=region,
        municipality=gothenburg,
    )


REQUIRED_COLUMNS = {"kommunkod", "name", "kommunalforbund", "delregion", "population", "population_date"}


def read_municipality_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = REQUIRED_COLUMNS - set(reader.fieldnames or [])
        if missing:
            raise DomainError.single(
                "file",
                "KOMMUNFIL-KOLUMNER",
                _("Kolumner saknas i kommunfilen: %s") % ", ".join(sorted(missing)),
            )
        rows = list(reader)
    if len(rows) != 49:
        raise DomainError.single(
            "file", "KOMMUNFIL-49", _("Kommunfilen ska ha 49 kommuner, den har %d.") % len(rows)
        )
    return rows


# --- SCB population import ----------------------------------------------------------------------------------

REGION_CELL_RE = re.compile(r"^\s*(?P<code>\d{4})\s+(?P<name>.+?)\s*$")


@dataclass
class PopulationImport:
    year: int
    imported: int
    ignored_regions: int


def import_scb_population(content: bytes, year: int, source: str) -> PopulationImport:
    """Import SCB's table "Folkmängd efter region och år" (Statistikdatabasen BE0101, exported as CSV or
    semicolon-separated text, UTF-8 or ISO-8859-1) for one year. Rows for regions outside Västra Götaland are
    ignored; all 49 municipalities must be present with a whole number. All or nothing."""
    text = _decode(content)
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else "", delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        raise DomainError.single("file", "SCB-TOM", _("Filen är tom."))
    header = [cell.strip().strip('"') for cell in rows[0]]
    year_columns = [i for i, cell in enumerate(header) if re.search(rf"\b{year}\b", cell)]
    if not year_columns:
        raise DomainError.single(
            "year",
            "SCB-AR",
            _("Filen har ingen kolumn för år %(year)d. Kolumner: %(cols)s")
            % {"year": year, "cols": ", ".join(header)},
        )
    year_col = year_columns[0]
    by_code = {m.scb_code: m for m in Municipality.objects.all()}
    problems: list[Problem] = []
    values: dict[str, int] = {}
    bad_codes: set[str] = set()
    ignored = 0
    for line_no, row in enumerate(rows[1:], start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        match = REGION_CELL_RE.match(row[0].strip('"'))
        if not match or match["code"] not in by_code:
            ignored += 1
            continue
        raw = row[year_col].strip().replace(" ", "").replace("\u00a0", "") if year_col < len(row) else ""
        if not raw.isdecimal() or int(raw) <= 0:
            bad_codes.add(match["code"])
            problems.append(
                Problem(
                    f"rad {line_no}",
                    "SCB-FOLKMANGD",
                    _("%(name)s: folkmängden ”%(raw)s” är inget positivt heltal.")
                    % {"name": match["name"], "raw": raw},
                )
            )
            continue
        values[match["code"]] = int(raw)
    missing = sorted(set(by_code) - set(values) - bad_codes)
    for code in missing:
        problems.append(
            Problem(
                "file",
                "SCB-KOMMUN-SAKNAS",
                _("%(name)s (%(code)s) saknas i filen.") % {"name": by_code[code].name, "code": code},
            )
        )
    if problems:
        raise DomainError(problems)
    with transaction.atomic():
        for code, population in values.items():
            PopulationFigure.objects.update_or_create(
                municipality=by_code[code],
                year=year,
                defaults={
                    "population": population,
                    "reference_date": dt.date(year, 12, 31),
                    "source": source,
                },
            )
    return PopulationImport(year=year, imported=len(values), ignored_regions=ignored)


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "iso-8859-1"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DomainError.single("file", "SCB-TECKENKODNING", _("Filen kunde inte läsas som text."))
