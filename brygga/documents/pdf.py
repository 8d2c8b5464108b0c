"""Render brygga's documents to PDF with ReportLab: a title, facts about the person, then sections.

Output is deterministic for the same content (ReportLab's invariant mode), so a version's SHA-256 identifies
its content."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle


@dataclass
class Section:
    heading: str
    paragraphs: Sequence[str] = ()
    rows: Sequence[Sequence[str]] = ()  # a table; the first row is the header
    new_page: bool = False


@dataclass
class PdfDocument:
    title: str
    facts: Sequence[tuple[str, str]] = ()
    sections: list[Section] = field(default_factory=list)
    footer: str = ""


def _p(text: str, style) -> Paragraph:  # type: ignore[no-untyped-def]
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def render(document: PdfDocument) -> bytes:
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=document.title,
        author="brygga",
        creator="brygga",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        invariant=1,
    )
    story: list = [_p(document.title, styles["Title"])]
    if document.facts:
        table = Table(
            [[_p(k, styles["BodyText"]), _p(v, styles["BodyText"])] for k, v in document.facts],
            colWidths=[50 * mm, None],
        )
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story += [table, Spacer(1, 6 * mm)]
    for section in document.sections:
        if section.new_page:
            story.append(PageBreak())
        story.append(_p(section.heading, styles["Heading2"]))
        for paragraph in section.paragraphs:
            story.append(_p(paragraph, styles["BodyText"]))
        if section.rows:
            table = Table([[_p(cell, small) for cell in row] for row in section.rows], repeatRows=1)
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
        story.append(Spacer(1, 4 * mm))
    if document.footer:
        story += [Spacer(1, 8 * mm), _p(document.footer, small)]
    template.build(story)
    return buffer.getvalue()
