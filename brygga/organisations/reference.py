"""Reference data for Västra Götaland: the fixed organisations (region, delregioner, kommunalförbund,
VästKom, hospital groups and sites, regional primary care) and the units needed to work.

Organisation numbers and HSA-ids of units below are *synthetic* (valid in form, Luhn-checked) except the
region's organisation number; production imports real HSA-ids from the HSA catalogue."""

from __future__ import annotations

REGION_NAME = "Västra Götalandsregionen"
REGION_SHORT = "VGR"
REGION_ORG_NUMBER = "2321000131"

SUBREGIONS = [
    ("Fyrbodal", "fyrbodal"),
    ("SIMBA", "simba"),
    ("Göteborgsområdet", "goteborgsomradet"),
    ("SAMLA", "samla"),
    ("Södra Älvsborg", "sodra-alvsborg"),
    ("Skaraborg", "skaraborg"),
]

# Name in the CSV → (organisation name, short name)
ASSOCIATIONS = {
    "Fyrbodals kommunalförbund": ("Fyrbodals kommunalförbund", "Fyrbodal"),
    "Göteborgsregionen (GR)": ("Göteborgsregionen", "GR"),
    "Sjuhärads kommunalförbund (Boråsregionen)": ("Boråsregionen Sjuhärads kommunalförbund", "Boråsregionen"),
    "Skaraborgs kommunalförbund": ("Skaraborgs kommunalförbund", "Skaraborg"),
}

VASTKOM = ("VästKom", "VästKom")

# Hospital groups (sjukhusförvaltningar) of the region with their sites: (site name, SCB code of its town).
HOSPITAL_GROUPS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "Sahlgrenska Universitetssjukhuset": (
        "SU",
        [("Sahlgrenska", "1480"), ("Östra sjukhuset", "1480"), ("Mölndals sjukhus", "1481")],
    ),
    "NU-sjukvården": ("NU", [("NÄL", "1488"), ("Uddevalla sjukhus", "1485")]),
    "Södra Älvsborgs Sjukhus": ("SÄS", [("SÄS Borås", "1490"), ("SÄS Skene", "1463")]),
    "Skaraborgs Sjukhus": (
        "SkaS",
        [("SkaS Skövde", "1496"), ("SkaS Lidköping", "1494"), ("SkaS Falköping", "1499")],
    ),
    "Alingsås lasarett": ("AL", [("Alingsås lasarett", "1489")]),
    "Kungälvs sjukhus": ("KS", [("Kungälvs sjukhus", "1482")]),
    "Frölunda specialistsjukhus": ("FSS", [("Frölunda specialistsjukhus", "1480")]),
}

# Wards per site: (name suffix, short code).
WARDS = [("Medicinavdelning", "MED"), ("Geriatrisk avdelning", "GER"), ("Ortopedavdelning", "ORT")]
LARGE_SITE_EXTRA_WARDS = [("Psykiatrisk heldygnsvård", "PSY"), ("Strokeenhet", "STR")]
LARGE_SITES = {"Sahlgrenska", "Östra sjukhuset", "NÄL", "SÄS Borås", "SkaS Skövde"}

PRIMARY_CARE_ORG = ("Närhälsan", "NH")
