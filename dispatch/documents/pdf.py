"""A paper laid out as a PDF: a title, the case code and its QR code, a table of fields, sections of text or rows.

Chinese is set in STSong-Light, one of the CID fonts every PDF reader carries (Adobe-GB1), so no font file ships."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from dispatch.documents.qr import qr_png

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
TITLE = ParagraphStyle("title", fontName=FONT, fontSize=20, leading=28, alignment=TA_CENTER, spaceAfter=4 * mm)
BODY = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=16, wordWrap="CJK")
HEAD = ParagraphStyle("head", parent=BODY, fontSize=12, leading=20, spaceBefore=4 * mm)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8, leading=11)
GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f0f0f0")),
    ]
)
ROWS = TableStyle(
    [("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f0f0"))]
)
QR_SIDE = 30 * mm


@dataclass(frozen=True)
class Section:
    """A heading and either paragraphs or a table (its first row the headers)."""

    heading: str
    paragraphs: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Paper:
    """What a printed paper says: title, reference number, case code and link, fields, sections, footer."""

    title: str
    number: str
    case_code: str
    link: str
    fields: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...] = ()
    footer: tuple[str, ...] = field(default=())


def render(paper: Paper) -> bytes:
    """The paper as an A4 PDF."""
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{paper.title} {paper.case_code}",
        subject=paper.link,
        author="镇村治理指挥调度平台",
    )
    story: list[Flowable] = [_p(paper.title, TITLE), _heading_block(paper, doc.width)]
    story.append(Spacer(1, 4 * mm))
    story.append(_fields(paper.fields, doc.width))
    for section in paper.sections:
        story.extend(_section(section, doc.width))
    story.extend(Paragraph(escape(line), BODY) for line in paper.footer)
    doc.build(story)
    return out.getvalue()


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _heading_block(paper: Paper, width: float) -> Table:
    """Number and case code on the left, the QR code of the case link with the link under it on the right."""
    left = [_p(f"编号：{paper.number}"), _p(f"案件编号：{paper.case_code}")]
    right = [Image(io.BytesIO(qr_png(paper.link)), width=QR_SIDE, height=QR_SIDE), _p("扫码查看案件", SMALL)]
    table = Table([[left, right]], colWidths=[width - QR_SIDE - 6 * mm, QR_SIDE + 6 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
    return table


def _fields(fields: tuple[tuple[str, str], ...], width: float) -> Table:
    table = Table([[_p(k), _p(v)] for k, v in fields], colWidths=[32 * mm, width - 32 * mm])
    table.setStyle(GRID)
    return table


def _section(section: Section, width: float) -> list[Flowable]:
    out: list[Flowable] = [_p(section.heading, HEAD)]
    out.extend(_p(text) for text in section.paragraphs)
    if section.rows:
        share = width / len(section.rows[0])
        table = Table([[_p(c) for c in row] for row in section.rows], colWidths=[share] * len(section.rows[0]))
        table.setStyle(ROWS)
        out.append(table)
    return out
