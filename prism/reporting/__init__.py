"""PDF reports of the six dashboards, all from one snapshot.

Where things live:
- `model`: page types, units, colours, thresholds and the records passed around;
- `text`: money, percentages, changes and the helpers sentences are written with;
- `pages/<page>.py`: one dashboard each (its measures, charts and default insights), assembled in
  `pages/__init__.py` with each page's key metrics;
- `content`: a page's content for one snapshot (built once per tick), and the merge with what the
  client sent;
- `charts`: drawing with matplotlib; `pdf`: layout with ReportLab; `pdf_image`: the one workaround
  below ReportLab's public API (charts go in as their PNG's own compressed pixels);
- `store`: a request rendered end to end, its file name, and the kept copies.

Importing this package is cheap: matplotlib and ReportLab are imported by the functions that draw.
"""

from prism.reporting.content import hour_earlier, merge_insights, merge_metrics, metric_rows, page_content
from prism.reporting.model import PAGE_TYPES, ChartSpec, PageContent, PageType, RenderedChart, Report, ReportError
from prism.reporting.pages import PAGES
from prism.reporting.pdf import paragraph_text, render_report
from prism.reporting.store import (
    MAX_CONCURRENT_RENDERS,
    REPORT_NAME,
    create_report,
    keep_copy,
    prune_reports,
    report_name,
    warm_up,
)
from prism.reporting.text import format_change, format_value, pct, usd

__all__ = [
    "MAX_CONCURRENT_RENDERS",
    "PAGES",
    "PAGE_TYPES",
    "REPORT_NAME",
    "ChartSpec",
    "PageContent",
    "PageType",
    "RenderedChart",
    "Report",
    "ReportError",
    "create_report",
    "format_change",
    "format_value",
    "hour_earlier",
    "keep_copy",
    "merge_insights",
    "merge_metrics",
    "metric_rows",
    "page_content",
    "paragraph_text",
    "pct",
    "prune_reports",
    "render_report",
    "report_name",
    "usd",
    "warm_up",
]
