"""The PDF layout with ReportLab: cover, executive summary, key metrics, charts, findings, risks,
opportunities, recommendations and next actions, with page numbers and the client's text shown literally.
"""

from __future__ import annotations

import importlib.util
import io
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import cache, partial
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from models import ReportRequest
from prism.reporting.charts import prepare_matplotlib
from prism.reporting.colours import GREY, LEVEL_COLORS, NAVY, TEAL
from prism.reporting.content import merge_insights, merge_metrics
from prism.reporting.model import MetricRow, PageContent, RenderedChart, Risk
from prism.reporting.pdf_image import png_flowable
from prism.reporting.text import shorten

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def paragraph_text(text: str) -> str:
    """Text shown literally in a ReportLab paragraph: markup characters escaped, line breaks kept."""
    return escape(_CONTROL.sub("", text.replace("\t", " "))).replace("\r\n", "\n").replace("\n", "<br/>")


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%d %b %Y, %H:%M} UTC"


def _matplotlib_fonts() -> Path:
    """matplotlib's TrueType folder, found without importing matplotlib (about 36 MB, left to the first chart)."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


@cache
def paragraph_styles() -> dict[str, Any]:
    """Paragraph styles, with DejaVu Sans (shipped with matplotlib) so any text prints, not only Latin-1."""
    from reportlab import rl_config
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    # Binary image streams: ASCII85 (the default) is a quarter larger and, without the
    # optional C accelerator, encoded in pure Python at a cost of tens of milliseconds per chart.
    rl_config.useA85 = 0

    fonts = _matplotlib_fonts()
    pdfmetrics.registerFont(TTFont("PrismSans", str(fonts / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont("PrismSans-Bold", str(fonts / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(
        "PrismSans", normal="PrismSans", bold="PrismSans-Bold", italic="PrismSans", boldItalic="PrismSans-Bold"
    )
    ink, navy = colors.HexColor("#222222"), colors.HexColor(NAVY)
    body = ParagraphStyle("body", fontName="PrismSans", fontSize=9.5, leading=13.5, textColor=ink, spaceAfter=4)
    return {
        "body": body,
        "heading": ParagraphStyle(
            "heading",
            parent=body,
            fontName="PrismSans-Bold",
            fontSize=13,
            leading=16,
            textColor=navy,
            spaceBefore=14,
            spaceAfter=6,
            keepWithNext=1,
        ),
        "caption": ParagraphStyle(
            "caption", parent=body, fontName="PrismSans-Bold", fontSize=9.5, spaceBefore=6, spaceAfter=3, keepWithNext=1
        ),
        "bullet": ParagraphStyle("bullet", parent=body, leftIndent=14, bulletIndent=2, bulletFontName="PrismSans"),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.5, leading=11, spaceAfter=0),
        "cell_bold": ParagraphStyle(
            "cell_bold", parent=body, fontName="PrismSans-Bold", fontSize=8.5, leading=11, spaceAfter=0
        ),
        "kicker": ParagraphStyle(
            "kicker",
            parent=body,
            fontName="PrismSans-Bold",
            fontSize=8.5,
            textColor=colors.HexColor("#9CC3EE"),
            spaceAfter=2,
        ),
        "title": ParagraphStyle(
            "title", parent=body, fontName="PrismSans-Bold", fontSize=20, leading=24, textColor=colors.white
        ),
        "meta": ParagraphStyle(
            "meta", parent=body, fontSize=8.5, leading=12, textColor=colors.HexColor("#D5E2F0"), spaceAfter=0
        ),
    }


@cache
def _numbered_canvas() -> type:
    """A canvas that holds its pages back until the end, so each footer can say `Page n of N`."""
    from reportlab.pdfgen.canvas import Canvas

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, footer: str = "", **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._footer = footer
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._draw_footer(number, total)
                Canvas.showPage(self)
            Canvas.save(self)

        def _draw_footer(self, number: int, total: int) -> None:
            width = self._pagesize[0]
            self.saveState()
            self.setStrokeColor("#C9D1DC")
            self.setLineWidth(0.5)
            self.line(54, 40, width - 54, 40)
            self.setFont("PrismSans", 7.5)
            self.setFillColor("#6B7687")
            self.drawString(54, 28, self._footer)
            self.drawRightString(width - 54, 28, f"Page {number} of {total}")
            self.restoreState()

    return NumberedCanvas


def render_report(request: ReportRequest, content: PageContent, *, generated_at: datetime) -> bytes:
    """Lay out the PDF of a page's content, with the client's text where it sent some."""
    prepare_matplotlib()
    from reportlab.lib.pagesizes import LETTER
    from reportlab.lib.units import inch
    from reportlab.platypus import KeepTogether, SimpleDocTemplate

    title = request.pageTitle if request.pageTitle and request.pageTitle.strip() else content.title
    insights = merge_insights(content.insights, request)
    metrics = merge_metrics(content, request)
    styles = paragraph_styles()
    width = LETTER[0] - 1.5 * inch
    story = [
        *_cover(title, content, generated_at, styles, width),
        _heading("Executive summary", styles),
        *(_paragraph(text, styles["body"]) for text in insights.summary.split("\n\n")),
        KeepTogether(
            [_heading("Key metrics", styles), _metrics_table(metrics, content, bool(request.metrics), styles, width)]
        ),
        *_charts(content.charts, styles),
        *_bullets("Key findings", insights.key_findings, styles),
        KeepTogether([_heading("Risks", styles), _risk_table(insights.risks, styles, width)]),
        *_bullets("Opportunities", insights.opportunities, styles),
        *_bullets("Recommendations", insights.recommendations, styles, numbered=True),
        *_bullets("Next actions", insights.next_actions, styles, marker="☐"),
    ]
    output = io.BytesIO()
    document = SimpleDocTemplate(
        output,
        pagesize=LETTER,
        leftMargin=0.75 * inch,
        rightMargin=0.75 * inch,
        topMargin=0.7 * inch,
        bottomMargin=0.85 * inch,
        title=title,
        author="Prism Insights",
        subject=f"{content.dashboard} report, data of {_when(content.data_time)}",
        creator="Prism data simulator",
    )
    footer = f"Prism Insights · {shorten(title, 70)} · generated {_when(generated_at)}"
    document.build(story, canvasmaker=partial(_numbered_canvas(), footer=footer))
    return output.getvalue()


def _paragraph(text: str, style: Any) -> Any:
    from reportlab.platypus import Paragraph

    return Paragraph(paragraph_text(text), style)


def _heading(text: str, styles: dict[str, Any]) -> Any:
    return _paragraph(text, styles["heading"])


def _cover(title: str, content: PageContent, generated_at: datetime, styles: dict[str, Any], width: float) -> list[Any]:
    from reportlab.lib import colors
    from reportlab.platypus import Spacer, Table, TableStyle

    rows = [
        [_paragraph(f"PRISM INSIGHTS · {content.dashboard.upper()} REPORT", styles["kicker"])],
        [_paragraph(title, styles["title"])],
        [
            _paragraph(
                f"Generated {_when(generated_at)}\n"
                f"Data as of {content.data_time.astimezone(UTC):%d %b %Y, %H:%M:%S} UTC "
                f"(simulation tick {content.tick})",
                styles["meta"],
            )
        ],
    ]
    cover = Table(rows, colWidths=[width], splitInRow=1)
    cover.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor(NAVY)),
                ("LINEBEFORE", (0, 0), (0, -1), 5, colors.HexColor(TEAL)),
                ("LEFTPADDING", (0, 0), (-1, -1), 16),
                ("RIGHTPADDING", (0, 0), (-1, -1), 16),
                ("TOPPADDING", (0, 0), (-1, 0), 14),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 14),
                ("TOPPADDING", (0, 1), (-1, -1), 4),
            ]
        )
    )
    return [cover, Spacer(1, 4)]


_TONE_COLORS = {"good": "#2E7D4F", "bad": "#B3261E", "neutral": "#555555"}


def _table_style(extra: Iterable[tuple[Any, ...]]) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import TableStyle

    return TableStyle(
        [
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(NAVY)),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F3F6FA")]),
            ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#D9DFE7")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ("LEFTPADDING", (0, 0), (-1, -1), 7),
            ("RIGHTPADDING", (0, 0), (-1, -1), 7),
            *extra,
        ]
    )


def _header_cells(names: Sequence[str], styles: dict[str, Any]) -> list[Any]:
    from reportlab.platypus import Paragraph

    return [Paragraph(f'<font color="white">{paragraph_text(name)}</font>', styles["cell_bold"]) for name in names]


def _metrics_table(
    metrics: Sequence[MetricRow], content: PageContent, from_client: bool, styles: dict[str, Any], width: float
) -> Any:
    from reportlab.platypus import Paragraph, Table

    change_header = "Trend" if from_client else f"Change since {content.compared_time.astimezone(UTC):%H:%M} UTC"
    rows = [_header_cells(["Metric", "Value", change_header], styles)]
    for metric in metrics:
        tone = _TONE_COLORS[metric.tone]
        rows.append(
            [
                _paragraph(metric.label, styles["cell"]),
                _paragraph(metric.value, styles["cell_bold"]),
                Paragraph(f'<font color="{tone}">{paragraph_text(metric.change)}</font>', styles["cell"]),
            ]
        )
    table = Table(rows, colWidths=[width * 0.46, width * 0.22, width * 0.32], repeatRows=1, splitInRow=1)
    table.setStyle(_table_style([]))
    return table


def _charts(charts: Sequence[RenderedChart], styles: dict[str, Any]) -> list[Any]:
    from reportlab.lib.units import inch
    from reportlab.platypus import KeepTogether

    flowables: list[Any] = []
    for chart in charts:
        image = png_flowable()(chart.pixels, chart.width_in * inch, chart.height_in * inch)
        heading = [] if flowables else [_heading("Charts", styles)]
        flowables.append(KeepTogether([*heading, _paragraph(chart.title, styles["caption"]), image]))
    return flowables


def _bullets(
    heading: str, texts: Sequence[str], styles: dict[str, Any], *, numbered: bool = False, marker: str = "•"
) -> list[Any]:
    from reportlab.platypus import KeepTogether, Paragraph

    if not texts:
        return []
    items = [
        Paragraph(paragraph_text(text), styles["bullet"], bulletText=f"{number}." if numbered else marker)
        for number, text in enumerate(texts, start=1)
    ]
    # An item never splits over two pages, and a heading never ends one.
    return [KeepTogether([_heading(heading, styles), items[0]]), *(KeepTogether([item]) for item in items[1:])]


def _level_color(level: str) -> str:
    return LEVEL_COLORS.get(level.strip().lower(), GREY)


def _risk_table(risks: Sequence[Risk], styles: dict[str, Any], width: float) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table

    rows = [_header_cells(["Level", "Risk", "Recommendation"], styles)]
    coloring: list[tuple[Any, ...]] = []
    for row, risk in enumerate(risks, start=1):
        rows.append(
            [
                Paragraph(f'<font color="white">{paragraph_text(risk.level)}</font>', styles["cell_bold"]),
                _paragraph(risk.description, styles["cell"]),
                _paragraph(risk.recommendation, styles["cell"]),
            ]
        )
        coloring.append(("BACKGROUND", (0, row), (0, row), colors.HexColor(_level_color(risk.level))))
    table = Table(rows, colWidths=[width * 0.13, width * 0.435, width * 0.435], repeatRows=1, splitInRow=1)
    table.setStyle(_table_style([*coloring, ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table
