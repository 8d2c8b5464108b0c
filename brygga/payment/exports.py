"""The invoice basis of one settlement run as CSV, XLSX and PDF. All three are built from the same rows and
the same database totals, so they never disagree with the page.

Each format is written to a binary file object, row by row from a database cursor, reporting progress: a small
run is built in the request (`as_csv` …), a large one by the background worker into a stored file
(`services.request_export`, issue 17 item 4)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import BinaryIO

from django.utils.translation import gettext as _

from brygga.payment.models import SettlementLine, SettlementRun

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def header() -> list[str]:
    return [
        _("Rad"),
        _("Ärende"),
        _("Typ"),
        _("Regel"),
        _("Meddelande utskrivningsklar"),
        _("Utskriven"),
        _("Dagar"),
        _("Betaldagar"),
        _("Belopp (kr)"),
        _("Undantag, regel"),
        _("Skäl eller förklaring"),
    ]


Progress = Callable[[int], None]
PROGRESS_EVERY = 250


def rows(run: SettlementRun, progress: Progress | None = None) -> Iterator[list[object]]:
    """The lines in order, read in chunks (a large run's 3,000 lines are never all model instances at once);
    ``progress`` is told how many were read every PROGRESS_EVERY lines and at the end."""
    line: SettlementLine
    count = 0
    for line in run.lines.order_by("position").iterator(chunk_size=1000):
        yield (
            [
                line.position,
                line.case_reference,
                line.get_kind_display(),
                line.rule_label,
                line.notice_date,
                line.discharge_date,
                line.days,
                line.payable_days,
                line.amount,
                line.exclusion_rule,
                line.exclusion_reason or line.explanation,
            ]
        )
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
    if progress is not None:
        progress(count)


def summary(run: SettlementRun) -> list[tuple[str, str]]:
    totals = run.totals()
    amount = totals["amount"]
    items = [
        (_("Kommun"), f"{run.municipality.name} ({run.municipality.scb_code})"),
        (_("Period"), run.period),
        (_("Körning"), f"{run.sequence} ({run.get_status_display()})"),
        (
            _("Belopp per vårddygn"),
            f"{run.amount_per_day} kr ({run.amount_source})"
            if run.amount_per_day is not None
            else _("saknas"),
        ),
        (_("Betaldagar totalt"), str(totals["payable_days"])),
        (
            _("Att betala (kr)"),
            str(amount) if amount is not None else _("kan inte räknas fram: belopp saknas"),
        ),
    ]
    for problem in run.problems:
        items.append(
            (_("Dataproblem"), f"{problem['case_reference']} {problem['message']} ({problem['rule']})")
        )
    return items


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text  # no formulas in a spreadsheet export


def write_csv(run: SettlementRun, out: BinaryIO, progress: Progress | None = None) -> None:
    """Semicolon-separated UTF-8 with BOM, as Swedish spreadsheet programs expect; decimals with a point."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    text.write("\ufeff")
    writer = csv.writer(text, delimiter=";")
    for key, value in summary(run):
        writer.writerow([_cell(key), _cell(value)])
    writer.writerow([])
    writer.writerow(header())
    for row in rows(run, progress):
        writer.writerow([_cell(v) for v in row])
    text.detach()  # leave ``out`` open for the caller


def write_xlsx(run: SettlementRun, out: BinaryIO, progress: Progress | None = None) -> None:
    """Write-only mode: rows go to the file as they come instead of a whole sheet held in memory."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Underlag"))
    for column, width in zip("ABCDEFGHIJK", (6, 18, 24, 22, 14, 12, 8, 10, 14, 16, 70), strict=True):
        sheet.column_dimensions[column].width = width
    for key, value in summary(run):
        sheet.append([_cell(key), _cell(value)])
    sheet.append([])
    bold = Font(bold=True)
    heading = []
    for title in header():
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        heading.append(cell)
    sheet.append(heading)
    for row in rows(run, progress):
        sheet.append([v if isinstance(v, int | float | Decimal) else _cell(v) for v in row])
    workbook.save(out)


def write_pdf(run: SettlementRun, out: BinaryIO, progress: Progress | None = None) -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7, leading=8.5)
    document = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=_("Underlag för betalningsansvar"),
    )
    story: list[object] = [
        Paragraph(
            _("Underlag för betalningsansvar") + f" — {run.municipality.name} {run.period}", styles["Title"]
        )
    ]
    for key, value in summary(run):
        story.append(Paragraph(f"<b>{_escape(key)}:</b> {_escape(value)}", styles["BodyText"]))
    story.append(Spacer(1, 4 * mm))
    data = [[Paragraph(f"<b>{_escape(h)}</b>", small) for h in header()]]
    for row in rows(run, progress):
        data.append([Paragraph(_escape("" if v is None else str(v)), small) for v in row])
    widths = [8, 22, 28, 24, 20, 18, 11, 14, 20, 20, 88]
    table = Table(data, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story.append(table)
    document.build(story)


WRITERS: dict[str, Callable[[SettlementRun, BinaryIO, Progress | None], None]] = {
    "csv": write_csv,
    "xlsx": write_xlsx,
    "pdf": write_pdf,
}
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def in_memory(fmt: str, run: SettlementRun) -> bytes:
    """The whole file in memory: for a run small enough to build in the request."""
    buffer = io.BytesIO()
    WRITERS[fmt](run, buffer, None)
    return buffer.getvalue()


def as_csv(run: SettlementRun) -> bytes:
    return in_memory("csv", run)


def as_xlsx(run: SettlementRun) -> bytes:
    return in_memory("xlsx", run)


def as_pdf(run: SettlementRun) -> bytes:
    return in_memory("pdf", run)


def file_name(run: SettlementRun, fmt: str) -> str:
    return f"betalningsansvar-{run.municipality.scb_code}-{run.period}-{run.sequence}.{fmt}"


def _escape(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
