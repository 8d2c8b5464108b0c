"""Issue 17 item 4: no page that blocks a worker. The invoice basis is paged (and searchable by case); a large
run's CSV/XLSX/PDF is built by the background worker with its progress shown, once per run, format and status,
and downloaded only by those who may see the run."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from brygga.accounts.permissions import Role
from brygga.organisations.models import Municipality
from brygga.payment import downloads, exports, services
from brygga.payment.engine import LineKind
from brygga.payment.models import ExportFile, SettlementRun
from tests.factories import CONTACT_POINT, actor
from tests.test_payment_engine import stay

pytestmark = pytest.mark.django_db

GITS = "GITS kansli"
STAYS = 230  # individual lines over seven days, plus the average excess line and the exclusions below


@pytest.fixture
def big_run() -> SettlementRun:
    """Göteborg's March 2022 with 230 long stays (one line each), 3 excluded stays and the average line."""
    facts = [stay(f"L{n:04d}", "2022-03-01", "2022-03-20") for n in range(STAYS)]
    facts += [stay(f"X{n}", "2022-03-02", "2022-03-10", admission_notice=False) for n in range(3)]
    facts += [stay("A1", "2022-03-01", "2022-03-03")]
    gits = actor(Role.GITS_COORDINATOR, GITS, username="gits")
    return services.run_settlement(gits, Municipality.objects.get(scb_code="1480"), 2022, 3, facts)


@pytest.fixture
def documents_dir(isolated_documents):  # type: ignore[no-untyped-def]
    return isolated_documents


@pytest.fixture(autouse=True)
def large_from_fifty_lines(monkeypatch):  # type: ignore[no-untyped-def]
    """The fixture's run counts as large (the real limit is 500 lines)."""
    monkeypatch.setattr(downloads, "INLINE_LINES", 50)


def contact_client(client: Client) -> Client:
    client.force_login(actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT, username="kp").user)
    return client


def boras_client() -> Client:
    other = Client()
    other.force_login(actor(Role.MUNICIPAL_CONTACT, "Borås kontaktpunkt", username="kp-boras").user)
    return other


def test_invoice_basis_is_paged_and_the_total_covers_every_line(
    client: Client, big_run: SettlementRun
) -> None:
    contact_client(client)
    url = reverse("payment:settlement_detail", args=[big_run.pk])
    first = client.get(url).content.decode()
    charged = big_run.lines.exclude(kind=LineKind.EXCLUDED).count()
    assert charged == STAYS + 2  # the long stays, the average member and the average excess
    assert f"Rad 1–100 av {charged}" in first and "Sida 1 av 3" in first
    assert "L0098" in first and "L0099" not in first  # A1 (the average member) is line 1
    assert "?sida=2" in first
    # A page link keeps the filter and the other list's page, not a one-off check or a chosen line.
    checked = client.get(url, {"kontroll": "1", "bestrid": "1", "undantag": "1"}).content.decode()
    assert re.findall(r'<a href="([^"]*)" rel="next"', checked) == ["?undantag=1&amp;sida=2"]
    # R-VG-BET-1: the total is the database's sum of every line, not of the page shown
    total = big_run.totals()["amount"]
    assert total is not None and f"{total:,.2f}".replace(",", "\xa0").replace(".", ",") in first
    last = client.get(url + "?sida=3").content.decode()
    assert "L0229" in last and "L0098" not in last and "Sida 3 av 3" in last
    assert "X0" in first  # the excluded list (three lines) is on every page (R-VG-BET-2)


def test_case_filter_finds_a_line_on_any_page_and_an_overlong_filter_is_named(
    client: Client, big_run: SettlementRun
) -> None:
    contact_client(client)
    url = reverse("payment:settlement_detail", args=[big_run.pk])
    found = client.get(url, {"arende": "L0217"}).content.decode()
    assert "L0217" in found and "L0001" not in found
    assert 'value="L0217"' in found  # what was typed stays in the field
    line = big_run.lines.get(case_reference="L0217")
    assert f'<option value="{line.pk}"' in found  # and it can be disputed from there
    chosen = client.get(url, {"bestrid": line.pk}).content.decode()
    assert f'<option value="{line.pk}" selected>' in chosen
    too_long = client.get(url, {"arende": "9" * 61})
    assert too_long.status_code == 200
    assert "Ärendenumret får vara högst 60 tecken." in too_long.content.decode()


def test_a_small_run_is_still_built_in_the_request(
    client: Client, big_run: SettlementRun, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(downloads, "INLINE_LINES", 10_000)
    contact_client(client)
    response = client.get(reverse("payment:export", args=[big_run.pk, "csv"]))
    assert response["Content-Type"].startswith("text/csv")
    assert response.content == exports.as_csv(big_run)
    assert not ExportFile.objects.exists()


def test_large_run_file_is_built_by_the_worker_once_and_downloaded(
    client: Client,
    big_run: SettlementRun,
    documents_dir: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    contact_client(client)
    export_url = reverse("payment:export", args=[big_run.pk, "csv"])
    page = client.get(export_url)
    assert page.status_code == 200 and "Skapa filen (CSV)" in page.content.decode()
    assert not ExportFile.objects.exists()  # a GET requests nothing
    order = reverse("payment:export_request", args=[big_run.pk, "csv"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = client.post(order)
        second = client.post(order)  # a double click: the same file
    assert len(callbacks) == 1
    export = ExportFile.objects.get()
    assert first.status_code == second.status_code == 302
    assert (
        first["Location"]
        == second["Location"]
        == reverse("payment:export_status", args=[big_run.pk, export.pk])
    )
    assert export.status == ExportFile.Status.DONE and export.rows_done == export.rows_total
    status = client.get(first["Location"]).content.decode()
    assert "Filen är klar" in status and "hx-trigger" not in status  # nothing left to poll
    download = client.get(reverse("payment:export_download", args=[big_run.pk, export.pk]))
    body = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    assert body == exports.as_csv(big_run)  # the same bytes as the in-request build
    assert "no-store" in download["Cache-Control"]
    assert "betalningsansvar-1480-2022-03-1.csv" in download["Content-Disposition"]
    assert client.get(export_url)["Location"].endswith(f"/fil/{export.pk}/hamta/")
    detail = client.get(reverse("payment:settlement_detail", args=[big_run.pk])).content.decode()
    assert reverse("payment:export_download", args=[big_run.pk, export.pk]) in detail


def test_xlsx_and_pdf_from_the_worker_carry_every_line(
    big_run: SettlementRun, documents_dir: Any, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    contact = actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT, username="kp")
    with django_capture_on_commit_callbacks(execute=True):
        xlsx = downloads.request_export(contact, big_run.pk, "xlsx")
        pdf = downloads.request_export(contact, big_run.pk, "pdf")
    with downloads.open_stored(ExportFile.objects.get(pk=xlsx.pk)) as stored:
        sheet = load_workbook(io.BytesIO(stored.read())).active
    refs = [row[1] for row in sheet.iter_rows(values_only=True) if row and str(row[1] or "").startswith("L")]
    assert len(refs) == STAYS
    values = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert values["Att betala (kr)"] == str(big_run.totals()["amount"])
    with downloads.open_stored(ExportFile.objects.get(pk=pdf.pk)) as stored:
        assert stored.read(5) == b"%PDF-"


def test_another_municipality_gets_not_found_and_changes_nothing(
    big_run: SettlementRun, documents_dir: Any, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    contact = actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT, username="kp")
    with django_capture_on_commit_callbacks(execute=True):
        export = downloads.request_export(contact, big_run.pk, "csv")
    other = boras_client()
    for url in (
        reverse("payment:export", args=[big_run.pk, "csv"]),
        reverse("payment:export_status", args=[big_run.pk, export.pk]),
        reverse("payment:export_download", args=[big_run.pk, export.pk]),
    ):
        assert other.get(url).status_code == 404
    assert other.post(reverse("payment:export_request", args=[big_run.pk, "pdf"])).status_code == 404
    assert list(ExportFile.objects.values_list("fmt", flat=True)) == ["csv"]
    own = Client()
    contact_client(own)
    assert own.post(reverse("payment:export_request", args=[big_run.pk, "doc"])).status_code == 404
    assert ExportFile.objects.count() == 1


def test_a_failed_build_is_shown_and_a_new_request_builds_it(
    client: Client,
    big_run: SettlementRun,
    documents_dir: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    def broken(run: SettlementRun, out: Any, progress: Any) -> None:
        progress(100)
        raise OSError("disk full")

    contact_client(client)
    order = reverse("payment:export_request", args=[big_run.pk, "csv"])
    monkeypatch.setitem(exports.WRITERS, "csv", broken)
    with django_capture_on_commit_callbacks(execute=True):  # the task fails; the worker records it
        client.post(order)
    export = ExportFile.objects.get()
    assert export.status == ExportFile.Status.FAILED and not export.storage_name
    status = client.get(reverse("payment:export_status", args=[big_run.pk, export.pk])).content.decode()
    assert "Filen kunde inte byggas" in status and "Skapa filen (CSV)" in status
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(order)
    export.refresh_from_db()
    assert export.status == ExportFile.Status.DONE and ExportFile.objects.count() == 1


def test_progress_is_visible_while_building_and_a_dead_build_is_restarted(
    client: Client,
    big_run: SettlementRun,
    documents_dir: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    contact_client(client)
    monkeypatch.setattr(downloads, "_enqueue", lambda export_id: None)  # the worker has not started yet
    client.post(reverse("payment:export_request", args=[big_run.pk, "csv"]))
    export = ExportFile.objects.get()
    assert export.rows_total == big_run.lines.count() == 235
    ExportFile.objects.filter(pk=export.pk).update(status=ExportFile.Status.RUNNING, rows_done=141)
    page = client.get(reverse("payment:export_status", args=[big_run.pk, export.pk])).content.decode()
    assert 'max="100" value="60"' in page and "141 av 235 rader klara" in page
    assert 'hx-trigger="every 2s"' in page
    fragment = client.get(reverse("payment:export_status", args=[big_run.pk, export.pk]), {"del": "status"})
    assert fragment.content.decode().lstrip().startswith('<div id="export-status"')
    # A build whose worker was killed (kill -9) goes quiet; the next request after STALE_AFTER starts it again.
    enqueued: list[int] = []
    monkeypatch.setattr(downloads, "_enqueue", enqueued.append)
    assert downloads.request_export(
        actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT, username="kp"), big_run.pk, "csv"
    )
    assert enqueued == []  # still fresh: not started twice
    stale = timezone.now() - downloads.STALE_AFTER - dt.timedelta(seconds=1)
    ExportFile.objects.filter(pk=export.pk).update(updated_at=stale)
    with django_capture_on_commit_callbacks(execute=True):
        downloads.request_export(
            actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT, username="kp"), big_run.pk, "csv"
        )
    assert enqueued == [export.pk]
    export.refresh_from_db()
    assert export.status == ExportFile.Status.QUEUED and export.rows_done == 0
    # the worker's retry completes it; running it once more changes nothing
    done = downloads.build_export(export.pk)
    assert done is not None and done.status == ExportFile.Status.DONE
    digest = done.sha256
    assert downloads.build_export(export.pk).sha256 == digest  # type: ignore[union-attr]
    assert ExportFile.objects.count() == 1


def test_closing_the_run_gives_a_new_file_with_the_new_status(
    big_run: SettlementRun, documents_dir: Any, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    contact = actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT, username="kp")
    with django_capture_on_commit_callbacks(execute=True):
        open_file = downloads.request_export(contact, big_run.pk, "csv")
    SettlementRun.objects.filter(pk=big_run.pk).update(status=SettlementRun.Status.CLOSED)
    with django_capture_on_commit_callbacks(execute=True):
        closed_file = downloads.request_export(contact, big_run.pk, "csv")
    assert closed_file.pk != open_file.pk
    with downloads.open_stored(ExportFile.objects.get(pk=open_file.pk)) as stored:
        assert "1 (Öppen)".encode() in stored.read()
    with downloads.open_stored(ExportFile.objects.get(pk=closed_file.pk)) as stored:
        assert "1 (Stängd)".encode() in stored.read()
