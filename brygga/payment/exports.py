"""The invoice basis of one settlement run as CSV, XLSX and PDF. All three are built from the same rows and
the same database totals, so they never disagree with the page."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

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


def rows(run: SettlementRun) -> list[list[object]]:
    result: list[list[object]] = []
    line: SettlementLine
    for line in run.lines.order_by("position"):
        result.append(
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
    return result


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


def as_csv(run: SettlementRun) -> bytes:
    """Semicolon-separated UTF-8 with BOM, as Swedish spreadsheet programs expect; decimals with a point."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    for key, value in summary(run):
        writer.writerow([_cell(key), _cell(value)])
    writer.writerow([])
    writer.writerow(header())
    for row in rows(run):
        writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def as_xlsx(run: SettlementRun) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Underlag")
    for key, value in summary(run):
        sheet.append([_cell(key), _cell(value)])
    sheet.append([])
    sheet.append(header())
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in rows(run):
        sheet.append([v if isinstance(v, int | float | Decimal) else _cell(v) for v in row])
    for column, width in zip("ABCDEFGHIJK", (6, 18, 24, 22, 14, 12, 8, 10, 14, 16, 70), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def as_pdf(run: SettlementRun) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7, leading=8.5)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
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
    for row in rows(run):
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
    return buffer.getvalue()


def _escape(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
