"""The seed documents' own budget tables, loaded as budgets and checked against themselves.

- Seed 001 (Förvaltningsplan SHVO 2023) §4.1 "BUDGET 2023 Samordnad hälsa- vård och omsorg", with the keys of
  §4.2: staff 50/50 VGR/VGK, the IT service incl. operation 70/30, development, technical resources, support
  and consultants 70/30.
- Seed 003 (Verksamhetsplan GITS 2025) §3 "Total budget 2025 GITS", with the keys of its text: staff 50/50,
  the GITS development portfolio 50/50, SAMSA system costs 30/70 VGK/VGR, usage-based invoicing of open data.

Every stated cell is kept here as the seed prints it (``None`` for an empty cell, several figures where the
seed prints several); ``reconcile`` compares them with what brygga computes and with each other and names
every place where a table does not add up, with the reason. Loading is idempotent."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from itertools import combinations

from django.db import transaction
from django.utils.translation import gettext as _

from brygga.economy import services
from brygga.economy.models import (
    Budget,
    FinancingKey,
    Party,
    PriceList,
    PriceListItem,
    ResponsibilityObject,
    Subscription,
)
from brygga.economy.services import KeyPartInput
from brygga.organisations.models import Municipality

OTHER_FINANCIER = "SITIV/annan finansiär"

KEYS: list[tuple[str, str, list[KeyPartInput], str]] = [
    (
        "personal-50-50",
        "Personella resurser 50/50 VGR/VGK",
        [KeyPartInput(Party.REGION, 50), KeyPartInput(Party.MUNICIPALITIES, 50)],
        "Seed 001 §4.2: lönekostnader för funktionskoordinatorer 50/50; "
        "seed 003 §3: personella resurser 50/50.",
    ),
    (
        "it-drift-70-30",
        "IT-tjänst inkl. drift 70/30 VGR/VGK",
        [KeyPartInput(Party.REGION, 70), KeyPartInput(Party.MUNICIPALITIES, 30)],
        "Seed 001 §4.2; seed 003 §3: systemkostnader för SAMSA 30/70 VGK/VGR.",
    ),
    (
        "utveckling-70-30",
        "Utveckling, teknisk resurs, support och konsultstöd 70/30 VGR/VGK",
        [KeyPartInput(Party.REGION, 70), KeyPartInput(Party.MUNICIPALITIES, 30)],
        "Seed 001 §4.2.",
    ),
    (
        "vastkom-50-50",
        "50/50 VGR/VästKom",
        [KeyPartInput(Party.REGION, 50), KeyPartInput(Party.VASTKOM, 50)],
        "Seed 003 §3: GITS övergripande och GITS utvecklingsportfölj, kommunernas hälft via VästKom.",
    ),
    ("vgr-100", "VGR 100 %", [KeyPartInput(Party.REGION, 100)], "Hela kostnaden bärs av VGR."),
    (
        "annan-100",
        "SITIV/annan finansiär 100 %",
        [KeyPartInput(Party.OTHER, 100, OTHER_FINANCIER)],
        "Seed 003 §3, kolumnen SITIV/Annan finansiär.",
    ),
]


@dataclass
class SeedLine:
    name: str
    amount: int
    key: str | None = None  # key code; None and no price list = unfunded
    price_list: bool = False
    note: str = ""


@dataclass
class SeedRow:
    """One row of a seed table: the stated cells, and how brygga models it as budget lines."""

    code: str
    label: str
    stated: dict[str, int | None]
    lines: list[SeedLine] = field(default_factory=list)


@dataclass
class SeedTable:
    name: str
    source: str
    year: int
    columns: list[tuple[str, str]]  # (column id, heading as printed)
    rows: list[SeedRow]
    stated_totals: dict[str, list[int]]


# Column ids map to Party values, plus "budget" and the seed's own sum column "kommuner_vastkom".
SHVO_2023 = SeedTable(
    name="BUDGET 2023 Samordnad hälsa- vård och omsorg",
    source="Seed 001, Förvaltningsplan SHVO 2023, §4.1–4.2",
    year=2023,
    columns=[("budget", "Budget"), ("municipalities", "Kommun"), ("region", "VGR")],
    rows=[
        SeedRow(
            "shvo",
            "Samordnad hälsa, vård och omsorg (SHVO)",
            {"budget": 14_300_000, "municipalities": 5_010_000, "region": 9_290_000},
            [
                SeedLine("Drift och licens", 7_600_000, "it-drift-70-30"),
                SeedLine("Processledare/Funktionskoordinatorer (400%)", 3_600_000, "personal-50-50"),
                SeedLine("Utveckling inkluderat teknisk resurs", 880_000, "utveckling-70-30"),
                SeedLine("Support (ta höjd för ev. ökat behov under året)", 2_000_000, "utveckling-70-30"),
                SeedLine(
                    "Möten, utbildning, kommunikation",
                    220_000,
                    "utveckling-70-30",
                    note="§4.2 anger ingen nyckel för möten, utbildning och kommunikation; tabellens siffror "
                    "(66 000 / 154 000) motsvarar 70/30.",
                ),
            ],
        )
    ],
    stated_totals={"budget": [14_300_000], "municipalities": [5_010_000], "region": [9_290_000]},
)

# The stated line-level cells of the SHVO 2023 table (Kommun, VGR), to check the split of every line.
SHVO_2023_LINE_CELLS: dict[str, tuple[int, int]] = {
    "Drift och licens": (2_280_000, 5_320_000),
    "Processledare/Funktionskoordinatorer (400%)": (1_800_000, 1_800_000),
    "Utveckling inkluderat teknisk resurs": (264_000, 616_000),
    "Support (ta höjd för ev. ökat behov under året)": (600_000, 1_400_000),
    "Möten, utbildning, kommunikation": (66_000, 154_000),
}

GITS_2025 = SeedTable(
    name="Total budget 2025 GITS",
    source="Seed 003, Verksamhetsplan GITS 2025, §3",
    year=2025,
    columns=[
        ("budget", "Budget"),
        ("municipalities", "Kommuner"),
        ("vastkom", "VästKom"),
        ("kommuner_vastkom", "Kommuner + VästKom"),
        ("region", "VGR"),
        ("other", "SITIV/Annan finansier"),
    ],
    rows=[
        SeedRow(
            "gits-overgripande",
            "GITS övergripande",
            {"budget": 2_920_000, "vastkom": 1_460_000, "kommuner_vastkom": 1_460_000, "region": 1_460_000},
            [SeedLine("GITS övergripande", 2_920_000, "vastkom-50-50")],
        ),
        SeedRow(
            "shvo",
            "Uppdrag SHVO (inkl. SAMSA IT-tjänst)",
            {
                "budget": 16_000_000,
                "municipalities": 4_780_000,
                "kommuner_vastkom": 4_780_000,
                "region": 10_000_000,
                "other": 1_220_000,
            },
            [
                SeedLine(
                    "Personella resurser (härledd)",
                    1_730_000,
                    "personal-50-50",
                    note="Härledd: seed 003 anger bara summan. Med personal 50/50 och system 30/70 är "
                    "P + S = 14 780 000 och 0,5·P + 0,3·S = 4 780 000 den enda lösningen P = 1 730 000.",
                ),
                SeedLine(
                    "Systemkostnader SAMSA (härledd)", 13_050_000, "it-drift-70-30", note="Härledd, se ovan."
                ),
                SeedLine("Finansiering från SITIV/annan finansiär", 1_220_000, "annan-100"),
            ],
        ),
        SeedRow(
            "sitiv-utvecklingsportfolj",
            "SITIV Utvecklingsportfölj",
            {"budget": 11_060_000},
            [
                SeedLine(
                    "SITIV Utvecklingsportfölj", 11_060_000, None, note="Ingen finansiär angiven i seed 003."
                )
            ],
        ),
        SeedRow(
            "gits-utvecklingsportfolj",
            "GITS Utvecklingsportfölj",
            {"budget": 2_000_000, "vastkom": 1_000_000, "kommuner_vastkom": 1_000_000, "region": 1_000_000},
            [SeedLine("GITS Utvecklingsportfölj", 2_000_000, "vastkom-50-50")],
        ),
        SeedRow(
            "oppna-data",
            "Öppna data",
            {"budget": 933_000, "municipalities": 744_000, "kommuner_vastkom": 744_000, "region": 189_000},
            [
                SeedLine("Kommunernas nyttjande enligt prislista", 744_000, price_list=True),
                SeedLine("Centrala kostnader (Regionutveckling, VGR)", 189_000, "vgr-100"),
            ],
        ),
        SeedRow(
            "ehdv",
            "Elevhälsodata Väst",
            {"budget": 4_600_000, "region": 4_100_000, "other": 500_000},
            [
                SeedLine("Elevhälsodata Väst, VGR:s del", 4_100_000, "vgr-100"),
                SeedLine("Elevhälsodata Väst, annan finansiär", 500_000, "annan-100"),
            ],
        ),
        SeedRow(
            "iot-projektledare",
            "IoT projektledare",
            {"budget": None, "region": 1_500_000},
            [
                SeedLine(
                    "IoT projektledare",
                    1_500_000,
                    "vgr-100",
                    note="Budgetcellen är tom i seed 003; beloppet är VGR-kolumnens 1 500 000.",
                )
            ],
        ),
        SeedRow(
            "siths-utveckling",
            "SITHS utveckling",
            {"budget": 750_000, "other": 750_000},
            [SeedLine("SITHS utveckling", 750_000, "annan-100")],
        ),
        SeedRow(
            "siths-utgivning",
            "Gemensam utgivning (SITHS)",
            {"budget": 11_310_000, "other": 11_310_000},
            [SeedLine("Gemensam utgivning (SITHS)", 11_310_000, "annan-100")],
        ),
    ],
    stated_totals={
        "budget": [37_513_000, 49_573_000],
        "municipalities": [5_524_000],
        "vastkom": [2_460_000],
        "kommuner_vastkom": [7_984_000],
        "region": [16_749_000, 18_249_000],
        "other": [13_780_000],
    },
)

OPEN_DATA_FEE = 31_000
OPEN_DATA_SUBSCRIBERS = 24  # demo: 24 × 31 000 = 744 000; seed 003 does not print the price list

OBJECT_NAMES = {
    "shvo": "Samordnad hälsa, vård och omsorg (SHVO)",
    "gits-overgripande": "GITS övergripande",
    "sitiv-utvecklingsportfolj": "SITIV Utvecklingsportfölj",
    "gits-utvecklingsportfolj": "GITS Utvecklingsportfölj",
    "oppna-data": "Öppna data",
    "ehdv": "Elevhälsodata Väst",
    "iot-projektledare": "IoT projektledare",
    "siths-utveckling": "SITHS utveckling",
    "siths-utgivning": "Gemensam utgivning (SITHS)",
}


@transaction.atomic
def load_seed_budgets() -> list[Budget]:
    """Load keys, responsibility objects, the open-data price list and both seed budgets. Idempotent: an
    existing budget for the same object and year is left as it is."""
    keys = {}
    for code, name, parts, description in KEYS:
        existing = FinancingKey.objects.filter(code=code).first()
        keys[code] = existing or services.save_financing_key(None, code, name, parts, description)
    budgets = []
    for table in (SHVO_2023, GITS_2025):
        for row in table.rows:
            obj, _created = ResponsibilityObject.objects.get_or_create(
                code=row.code, defaults={"name": OBJECT_NAMES[row.code]}
            )
            budget = Budget.objects.filter(responsibility_object=obj, year=table.year).first()
            if budget is not None:
                budgets.append(budget)
                continue
            budget = services.create_budget(
                None, obj, table.year, f"{row.label} {table.year}", source=table.source
            )
            for line in row.lines:
                price_list = _open_data_price_list(obj, table.year) if line.price_list else None
                services.add_line(
                    None,
                    budget,
                    line.name,
                    Decimal(line.amount),
                    key=keys[line.key] if line.key else None,
                    price_list=price_list,
                    note=line.note,
                )
            budgets.append(budget)
    return budgets


def _open_data_price_list(obj: ResponsibilityObject, year: int) -> PriceList:
    price_list, created = PriceList.objects.get_or_create(
        responsibility_object=obj,
        year=year,
        name="Öppna data-plattform",
        defaults={
            "note": "Exempel för demo: seed 003 säger att kommuner som nyttjar tjänsten faktureras enligt "
            "prislista men återger inte prislistan. 24 kommuner à 31 000 kr motsvarar raden 744 000 kr."
        },
    )
    if created:
        item = PriceListItem.objects.create(
            price_list=price_list, name="Årsavgift öppna data-plattform", unit="år", unit_price=OPEN_DATA_FEE
        )
        for municipality in Municipality.objects.select_related("organisation").order_by("scb_code")[
            :OPEN_DATA_SUBSCRIBERS
        ]:
            Subscription.objects.create(item=item, organisation=municipality.organisation, quantity=1)
    return price_list


# --- Reconciliation ----------------------------------------------------------------------------------------


@dataclass
class Finding:
    """One place where a seed table does not add up, or where brygga had to interpret it."""

    place: str
    stated: str
    computed: str
    reason: str


def _kr(value: int | None) -> str:
    return "—" if value is None else f"{value:,}".replace(",", " ")


def computed_row(table: SeedTable, row: SeedRow) -> dict[str, int]:
    """What brygga computes for a row from the loaded budget: the budget total and the party columns."""
    budget = Budget.objects.get(responsibility_object__code=row.code, year=table.year)
    columns = services.party_columns(budget)
    values = {"budget": int(budget.total)}
    for party in Party:
        values[party.value] = int(columns[party.value])
    values["kommuner_vastkom"] = values["municipalities"] + values["vastkom"]
    return values


def reconcile(table: SeedTable) -> list[Finding]:
    findings: list[Finding] = []
    financing_cols = [c for c, _h in table.columns if c not in ("budget", "kommuner_vastkom")]
    headings = dict(table.columns)
    for row in table.rows:
        computed = computed_row(table, row)
        # 1. brygga's split against every stated cell of the row.
        for col, _heading in table.columns:
            stated = row.stated.get(col)
            if (stated or 0) != computed[col] and not (col == "budget" and stated is None):
                findings.append(
                    Finding(
                        f"{row.label} / {headings[col]}",
                        _kr(stated),
                        _kr(computed[col]),
                        _("brygga:s fördelning enligt nyckel avviker från tabellens cell."),
                    )
                )
        # 2. The row against itself: budget cell vs the financing cells.
        financed = sum(row.stated.get(c) or 0 for c in financing_cols)
        budget_cell = row.stated.get("budget")
        if budget_cell is None and financed:
            findings.append(
                Finding(
                    f"{row.label} / Budget",
                    "—",
                    _kr(financed),
                    _(
                        "Budgetcellen är tom men finansieringskolumnerna summerar till %s; raden räknas med "
                        "i "
                        "VGR-kolumnens ena totalsumma men inte i budgetkolumnens."
                    )
                    % _kr(financed),
                )
            )
        elif budget_cell is not None and financed != budget_cell:
            findings.append(
                Finding(
                    f"{row.label}",
                    _kr(budget_cell),
                    _kr(financed),
                    _("Raden är inte finansierad: ingen part står för %s (R-ECO-2, flaggas).")
                    % _kr(budget_cell - financed)
                    if financed == 0
                    else _("Finansieringen täcker inte raden (R-ECO-2)."),
                )
            )
        if "kommuner_vastkom" in row.stated or "kommuner_vastkom" in headings:
            k_v = (row.stated.get("municipalities") or 0) + (row.stated.get("vastkom") or 0)
            if (row.stated.get("kommuner_vastkom") or 0) != k_v and "kommuner_vastkom" in headings:
                findings.append(
                    Finding(
                        f"{row.label} / Kommuner + VästKom",
                        _kr(row.stated.get("kommuner_vastkom")),
                        _kr(k_v),
                        _("Summakolumnen stämmer inte med Kommuner + VästKom."),
                    )
                )
    # 3. The totals row against the column sums.
    for col, heading in table.columns:
        cells = [(row.label, row.stated.get(col) or 0) for row in table.rows]
        column_sum = sum(v for _l, v in cells)
        for stated in table.stated_totals.get(col, []):
            if stated == column_sum:
                if len(table.stated_totals[col]) > 1:
                    findings.append(
                        Finding(
                            f"TOTALT / {heading}",
                            " / ".join(_kr(v) for v in table.stated_totals[col]),
                            _kr(column_sum),
                            _("Två totalsummor i samma cell; %s är kolumnens summa.") % _kr(stated),
                        )
                    )
                continue
            findings.append(
                Finding(
                    f"TOTALT / {heading}",
                    _kr(stated),
                    _kr(column_sum),
                    _explain(stated, column_sum, cells, table),
                )
            )
    # 4. The table as a whole: what the parties finance against what is budgeted.
    budget_sum = sum(row.stated.get("budget") or 0 for row in table.rows)
    financed_all = sum(row.stated.get(c) or 0 for row in table.rows for c in financing_cols)
    if budget_sum != financed_all:
        findings.append(
            Finding(
                "TOTALT / finansiering mot budget",
                _kr(budget_sum),
                _kr(financed_all),
                _(
                    "Parterna finansierar %(fin)s av budgeterade %(bud)s (skillnad %(diff)s): "
                    "ofinansierade rader "
                    "och rader utan budgetbelopp."
                )
                % {"fin": _kr(financed_all), "bud": _kr(budget_sum), "diff": _kr(budget_sum - financed_all)},
            )
        )
    return findings


def _explain(stated: int, column_sum: int, cells: list[tuple[str, int]], table: SeedTable) -> str:
    for size in (1, 2):
        for combo in combinations([c for c in cells if c[1]], size):
            if column_sum - sum(v for _l, v in combo) == stated:
                labels = ", ".join(label for label, _v in combo)
                return _(
                    "Kolumnens summa är %(sum)s; %(stated)s är summan utan raden/raderna %(labels)s."
                ) % {
                    "sum": _kr(column_sum),
                    "stated": _kr(stated),
                    "labels": labels,
                }
    financed = sum(
        row.stated.get(c) or 0
        for row in table.rows
        for c, _h in table.columns
        if c not in ("budget", "kommuner_vastkom") and (row.stated.get("budget") is not None)
    )
    return _(
        "Kolumnens summa är %(sum)s och ingen kombination av en eller två rader ger %(stated)s. "
        "Den finansierade "
        "delen av raderna med budgetbelopp är %(fin)s (skillnad %(diff)s); troligen ett skrivfel."
    ) % {"sum": _kr(column_sum), "stated": _kr(stated), "fin": _kr(financed), "diff": _kr(financed - stated)}
