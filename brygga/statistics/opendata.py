"""Open data: the monthly process statistics as CSV and its DCAT-AP-SE description (JSON-LD) at stable URLs,
for Dataportal Väst (dataportal.se harvests DCAT-AP-SE). Publisher and contact come from settings so an
installation names itself; the vocabularies are the EU Publications Office's authority tables, as DCAT-AP-SE
requires."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Max, Min
from django.urls import reverse

from brygga.statistics.models import MonthlyProcessStat
from brygga.statistics.selectors import OPEN_LEVELS, export_row, last_refresh

CSV_FILENAME = "processtatistik-samverkan-vid-utskrivning.csv"
EU = "http://publications.europa.eu/resource/authority"
LICENSE = "http://creativecommons.org/publicdomain/zero/1.0/"

_EMPTY_ROW = {
    **dict.fromkeys(
        [f.name for f in MonthlyProcessStat._meta.fields if f.get_internal_type() == "PositiveIntegerField"],
        0,
    ),
    "ready_days_median": None,
}
COLUMNS = list(export_row(_EMPTY_ROW).keys())

COLUMN_DESCRIPTIONS = {
    "manad": "Kalendermånad (ÅÅÅÅ-MM, svensk tid).",
    "niva": "region, subregion (delregion), municipality (kommun) eller site (sjukhus).",
    "nyckel": "vg, delregionens kortnamn, kommunkod (SCB) eller sjukhusets id.",
    "inskrivningsmeddelanden_inom_24h_andel": "Andel (%) inskrivningsmeddelanden skickade inom 24 timmar.",
    "dagar_utskrivningsklar_medel": "Medelvärde, kalenderdagar från utskrivningsklar till utskriven.",
    "sip_kallade_inom_3_dagar_andel": "Andel (%) kallelser till SIP inom 3 dagar efter utskrivningsklar.",
    "moten_video_andel": "Andel (%) planeringsmöten via video.",
}


def _setting(name: str, default: str) -> str:
    return str(getattr(settings, name, default))


def dcat(base_url: str) -> dict[str, Any]:
    span = MonthlyProcessStat.objects.filter(level__in=OPEN_LEVELS).aggregate(
        first=Min("month"), last=Max("month")
    )
    refreshed = last_refresh()
    csv_url = base_url + reverse("statistics:open_csv")
    dataset_url = base_url + reverse("statistics:open_dcat") + "#dataset"
    publisher = {
        "@id": _setting("BRYGGA_OPEN_DATA_PUBLISHER_URI", "https://www.vgregion.se/"),
        "@type": "foaf:Agent",
        "foaf:name": _setting("BRYGGA_OPEN_DATA_PUBLISHER", "Västra Götalandsregionen"),
    }
    dataset: dict[str, Any] = {
        "@id": dataset_url,
        "@type": "dcat:Dataset",
        "dct:identifier": dataset_url,
        "dct:title": [
            {"@language": "sv", "@value": "Processtatistik för samverkan vid utskrivning från sluten vård"},
            {"@language": "en", "@value": "Process statistics for coordinated discharge from inpatient care"},
        ],
        "dct:description": [
            {
                "@language": "sv",
                "@value": (
                    "Månadsvis statistik per delregion, kommun och sjukhus i Västra Götaland: "
                    "inskrivningsmeddelanden inom 24 timmar, dagar från utskrivningsklar till utskriven, "
                    "flyttade beräknade utskrivningsdatum, ärenden avslutade utan utskrivningsklar eller "
                    "utskrivningsmeddelande, kallelse till SIP inom 3 dagar och planeringsmöten per "
                    "mötesform. "
                    "Antal 1–4 redovisas som <5, och värden som skulle avslöja dem som '..'."
                ),
            }
        ],
        "dct:publisher": publisher,
        "dcat:contactPoint": {
            "@type": "vcard:Organization",
            "vcard:fn": _setting("BRYGGA_OPEN_DATA_CONTACT_NAME", "GITS kansli"),
            "vcard:hasEmail": {
                "@id": "mailto:" + _setting("BRYGGA_OPEN_DATA_CONTACT_EMAIL", "gits@example.se")
            },
        },
        "dcat:theme": [{"@id": f"{EU}/data-theme/HEAL"}, {"@id": f"{EU}/data-theme/SOCI"}],
        "dcat:keyword": [
            {"@language": "sv", "@value": word}
            for word in ("utskrivningsklar", "samordnad individuell plan", "SIP", "samverkan", "kommun")
        ],
        "dct:language": {"@id": f"{EU}/language/SWE"},
        "dct:spatial": {"@id": "http://data.europa.eu/nuts/code/SE232"},
        "dct:accrualPeriodicity": {"@id": f"{EU}/frequency/MONTHLY"},
        "dct:license": {"@id": LICENSE},
        "dcat:distribution": [
            {
                "@id": csv_url,
                "@type": "dcat:Distribution",
                "dct:title": [{"@language": "sv", "@value": "Processtatistik per månad (CSV)"}],
                "dcat:accessURL": {"@id": csv_url},
                "dcat:downloadURL": {"@id": csv_url},
                "dct:format": {"@id": f"{EU}/file-type/CSV"},
                "dcat:mediaType": {"@id": "https://www.iana.org/assignments/media-types/text/csv"},
                "dct:license": {"@id": LICENSE},
                "dct:description": [
                    {
                        "@language": "sv",
                        "@value": "Kolumner: "
                        + ", ".join(["manad", "niva", "nyckel", "namn", *COLUMNS])
                        + ". "
                        + " ".join(f"{k}: {v}" for k, v in COLUMN_DESCRIPTIONS.items()),
                    }
                ],
            }
        ],
    }
    if span["first"]:
        dataset["dct:temporal"] = {
            "@type": "dct:PeriodOfTime",
            "dcat:startDate": {"@value": f"{span['first']:%Y-%m-%d}", "@type": "xsd:date"},
            "dcat:endDate": {"@value": _month_end(span["last"]), "@type": "xsd:date"},
        }
    if refreshed:
        dataset["dct:modified"] = {"@value": refreshed.finished_at.isoformat(), "@type": "xsd:dateTime"}
    return {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "vcard": "http://www.w3.org/2006/vcard/ns#",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
        },
        "@graph": [
            {
                "@id": base_url + reverse("statistics:open_dcat") + "#catalog",
                "@type": "dcat:Catalog",
                "dct:title": [{"@language": "sv", "@value": "brygga: öppna data"}],
                "dct:description": [{"@language": "sv", "@value": "Öppna data från brygga."}],
                "dct:publisher": publisher,
                "dct:license": {"@id": LICENSE},
                "dcat:dataset": {"@id": dataset_url},
            },
            dataset,
        ],
    }


def _month_end(month: Any) -> str:
    import datetime as dt

    nxt = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return f"{nxt - dt.timedelta(days=1):%Y-%m-%d}"
