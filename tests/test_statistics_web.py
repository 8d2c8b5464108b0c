"""Statistics pages, CSV, open data (DCAT-AP-SE) and API: they read the summary tables, draw accessible
charts with a table behind each, drill down by area, refuse roles without the statistics permission, and
suppress small counts everywhere."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from brygga.accounts.permissions import Role
from brygga.organisations.models import Municipality
from brygga.statistics import suppression as s
from brygga.statistics.models import Level, MonthlyProcessStat, RefreshRun
from tests.factories import WARD, actor, unit

pytestmark = pytest.mark.django_db

GITS = "GITS kansli"
SEP = dt.date(2026, 9, 1)
OCT = dt.date(2026, 10, 1)


def _stat(month: dt.date, level: str, key: str, name: str, parent: str = "", **counts: int | Decimal) -> None:
    MonthlyProcessStat.objects.create(
        month=month, level=level, key=key, name=name, parent_key=parent, computed_at=timezone.now(), **counts
    )


@pytest.fixture
def stats() -> None:
    """Hand-made summary rows: Göteborg with enough cases, Borås with 3 notices (to be suppressed)."""
    gbg = Municipality.objects.get(scb_code="1480")
    boras = Municipality.objects.get(scb_code="1490")
    site = unit(WARD).site
    assert site is not None
    for month in (SEP, OCT):
        _stat(
            month, Level.REGION, "vg", "Västra Götaland",
            admissions=43, notices_due=43, notices_on_time=34, notices_late=9,
            ready_discharged=20, ready_days_sum=60, ready_days_median=Decimal("2.5"), days_2=12, days_3=5, days_4_7=3,
            meetings=10, meetings_video=6, meetings_phone=4,
        )  # fmt: skip
        _stat(month, Level.SUBREGION, gbg.subregion.slug, gbg.subregion.name, "vg", admissions=40, notices_due=40,
              notices_on_time=32, notices_late=8)  # fmt: skip
        _stat(month, Level.SUBREGION, boras.subregion.slug, boras.subregion.name, "vg", admissions=3, notices_due=3,
              notices_on_time=2, notices_late=1)  # fmt: skip
        _stat(month, Level.MUNICIPALITY, "1480", "Göteborg", gbg.subregion.slug, admissions=40, notices_due=40,
              notices_on_time=32, notices_late=8)  # fmt: skip
        _stat(month, Level.MUNICIPALITY, "1490", "Borås", boras.subregion.slug, admissions=3, notices_due=3,
              notices_on_time=2, notices_late=1)  # fmt: skip
        _stat(month, Level.SITE, str(site.pk), site.name, "vg", admissions=43, notices_due=43, notices_on_time=34,
              notices_late=9)  # fmt: skip
        _stat(month, Level.UNIT, unit(WARD).hsa_id, WARD, str(site.pk), admissions=43, notices_due=43,
              notices_on_time=34, notices_late=9)  # fmt: skip
    now = timezone.now()
    RefreshRun.objects.create(
        first_month=SEP, last_month=OCT, started_at=now, finished_at=now, rows=14, seconds=0.1
    )


def as_user(client: Client, role: Role, unit_name: str, username: str) -> Client:
    client.force_login(actor(role, unit_name, username=username).user)
    return client


def test_suppression_rules() -> None:
    assert [s.count(n).text for n in (0, 1, 4, 5)] == ["0", "<5", "<5", "5"]
    assert s.part(97, 100).text == ".." and s.part(3, 100).text == "<5" and s.part(95, 100).text == "95"
    assert s.share(97, 100).suppressed and s.share(2, 4).suppressed
    assert s.share(34, 43).text == "79,1" and s.share(0, 0).text == "–"
    assert s.mean(60, 20).text == "3,0" and s.mean(6, 3).text == ".."
    # One small cell in a partition hides the next smallest too, so it cannot be recovered by subtraction.
    assert [c.text for c in s.partition([12, 3, 0, 30], 45)] == ["..", "<5", "0", "30"]
    assert s.count(3).export == "<5" and s.count(7).export == 7 and s.share(0, 0).export is None


def test_overview_shows_charts_with_tables_and_suppresses_small_areas(client: Client, stats) -> None:  # type: ignore[no-untyped-def]
    as_user(client, Role.STATISTICS, GITS, "statistik")
    page = client.get(reverse("statistics:overview"), {"fran": "2026-09", "till": "2026-10"}).content.decode()
    assert page.count('role="img"') >= 9 and page.count("<table") >= 9 and "<desc id=" in page
    assert "79,1" in page  # Västra Götaland, notices within 24 h in each month: 34 of 43
    # The comparison of delregioner: Göteborgsområdet 64 of 80 = 80 %; Södra Älvsborg has 6 notices over the
    # period, 2 of them late: the share is hidden.
    assert "Göteborgsområdet" in page and "80,0" in page
    sodra = page.split("Södra Älvsborg</a>")[1].split("</tr>")[0]
    assert "<td>..</td>" in sodra and "<td>6</td>" in sodra
    assert 'href="/statistik/"' in page  # nav link for STATISTICS_VIEW
    assert "personnummer" not in page.lower()


def test_drill_down_to_municipality_and_ward(client: Client, stats) -> None:  # type: ignore[no-untyped-def]
    as_user(client, Role.STATISTICS, GITS, "statistik")
    boras = client.get(
        reverse("statistics:area", args=["kommun", "1490"]), {"fran": "2026-10", "till": "2026-10"}
    )
    page = boras.content.decode()
    assert (
        boras.status_code == 200 and "Borås" in page and "Södra Älvsborg" in page
    )  # breadcrumb to delregion
    assert "<td>&lt;5</td>" in page  # 3 notices in October
    site = unit(WARD).site
    assert site is not None
    hospital = client.get(reverse("statistics:area", args=["sjukhus", site.pk])).content.decode()
    assert WARD in hospital  # its wards are compared
    assert client.get(reverse("statistics:area", args=["kommun", "9999"])).status_code == 404
    assert client.get(reverse("statistics:area", args=["person", "1"])).status_code == 404


def test_everyone_reads_the_published_levels_but_wards_and_the_full_csv_need_statistics_view(  # type: ignore[no-untyped-def]
    client: Client, stats
) -> None:
    """Everyone following the process reads the levels also published as open data (region, delregion,
    municipality, hospital); the ward level and the CSV with wards are the statistics role's and GITS'."""
    as_user(client, Role.WARD_NURSE, WARD, "nurse")
    overview = client.get(reverse("statistics:overview"), {"fran": "2026-09", "till": "2026-10"})
    assert overview.status_code == 200 and "79,1" in overview.content.decode()
    assert 'href="/statistik/"' in client.get("/").content.decode()
    assert reverse("statistics:export_csv") not in overview.content.decode()
    assert client.get(reverse("statistics:export_csv")).status_code == 403
    site = unit(WARD).site
    assert site is not None
    hospital = client.get(reverse("statistics:area", args=["sjukhus", site.pk])).content.decode()
    main = hospital.split("<main")[1]
    assert (
        "Avdelningarna visas bara" in main
        and "/statistik/avdelning/" not in main
        and "Jämförelse" not in main
    )
    ward = client.get(reverse("statistics:area", args=["avdelning", unit(WARD).hsa_id]))
    assert ward.status_code == 403
    api = client.get("/api/v1/statistics/monthly", {"level": "unit"})
    assert api.status_code == 403
    assert client.get("/api/v1/statistics/monthly", {"level": "municipality"}).status_code == 200


def test_csv_export_is_suppressed(client: Client, stats) -> None:  # type: ignore[no-untyped-def]
    as_user(client, Role.GITS_COORDINATOR, GITS, "gits")
    response = client.get(reverse("statistics:export_csv"), {"fran": "2026-10", "till": "2026-10"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    boras = next(r for r in rows if r["nyckel"] == "1490")
    assert boras["inskrivna"] == "<5" and boras["inskrivningsmeddelanden_inom_24h_andel"] == ".."
    region = next(r for r in rows if r["niva"] == "region")
    assert region["inskrivningsmeddelanden_inom_24h_andel"] == "79.1"
    assert (
        region["dagar_utskrivningsklar_median"] == "2.5" and region["dagar_utskrivningsklar_medel"] == "3.0"
    )
    assert (
        region["moten_video"] == ".." and region["moten_telefon"] == "<5" and region["moten_fysiska"] == "0"
    )
    # 6 video and 4 phone meetings of 10: the 6 would give the 4 back, so it is hidden too.
    assert {r["niva"] for r in rows} == {"region", "subregion", "municipality", "site", "unit"}


def test_open_data_csv_is_public_suppressed_and_without_wards(client: Client, stats) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/statistik/oppna-data/processtatistik.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {r["niva"] for r in rows} == {"region", "subregion", "municipality", "site"}
    assert all(r["inskrivna"] == "<5" for r in rows if r["nyckel"] == "1490")
    assert len(rows) == 12


def test_dcat_ap_se_metadata(client: Client, stats) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/statistik/oppna-data/dcat.jsonld")
    assert response["Content-Type"].startswith("application/ld+json")
    doc = json.loads(response.content)
    dataset = next(n for n in doc["@graph"] if n["@type"] == "dcat:Dataset")
    catalog = next(n for n in doc["@graph"] if n["@type"] == "dcat:Catalog")
    assert catalog["dcat:dataset"]["@id"] == dataset["@id"]
    assert dataset["dct:publisher"]["foaf:name"] == "Västra Götalandsregionen"
    assert dataset["dct:license"]["@id"] == "http://creativecommons.org/publicdomain/zero/1.0/"
    assert dataset["dct:temporal"]["dcat:startDate"]["@value"] == "2026-09-01"
    assert dataset["dct:temporal"]["dcat:endDate"]["@value"] == "2026-10-31"
    assert {t["@id"].rsplit("/", 1)[1] for t in dataset["dcat:theme"]} == {"HEAL", "SOCI"}
    distribution = dataset["dcat:distribution"][0]
    assert distribution["@type"] == "dcat:Distribution"
    assert (
        distribution["dcat:downloadURL"]["@id"]
        == "http://testserver/statistik/oppna-data/processtatistik.csv"
    )
    assert distribution["dct:format"]["@id"].endswith("/file-type/CSV")


def test_api_monthly_rows_are_suppressed_and_need_the_permission(client: Client, stats) -> None:  # type: ignore[no-untyped-def]
    as_user(client, Role.STATISTICS, GITS, "statistik")
    response = client.get("/api/v1/statistics/monthly", {"level": "municipality", "from_month": "2026-10"})
    assert response.status_code == 200
    rows = {r["nyckel"]: r for r in response.json()}
    assert rows["1490"]["inskrivna"] == "<5" and rows["1480"]["inskrivna"] == 40
    assert client.get("/api/v1/statistics/monthly", {"level": "patient"}).status_code == 400
    client.logout()
    as_user(client, Role.WARD_NURSE, WARD, "nurse")  # the published levels yes, the wards no
    assert client.get("/api/v1/statistics/monthly").status_code == 200
    assert client.get("/api/v1/statistics/monthly", {"level": "unit"}).status_code == 403
