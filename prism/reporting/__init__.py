"""PDF reports of the six dashboards, all from one snapshot.

Where things live:
- `pages/base.py`: the skeleton every page fills in: a `Page` (titles, key metrics and other figures as
  `MetricDef`s, charts) and a `Narrative` (the page's facts, then one hook per section of the insights,
  put together the same way for every page);
- `pages/<page>.py`: one dashboard each, holding only what is its own (its measures, its `PAGE`, its
  narrative and its chart specs); `pages/__init__.py` lists them by page type;
- `model`: page types, units, chart sizes and the records passed around; `colours`; `thresholds`: the
  business thresholds the insights are measured against, and risk levels;
- `text`: money, percentages, changes and the words sentences are written with; `tally`: shares, means,
  totals, days and months;
- `content`: a page's content for one snapshot (built once per tick), and the merge with what the
  client sent;
- `charts`: drawing with matplotlib; `pdf`: layout with ReportLab; `pdf_image`: the one workaround
  below ReportLab's public API (charts go in as their PNG's own compressed pixels), explained there;
- `store`: a request rendered end to end, its file name, and the kept copies.

Importing this package is cheap: matplotlib and ReportLab are imported by the functions that draw.
"""

from models import PageType
from prism.reporting.content import hour_earlier, merge_insights, merge_metrics, metric_rows, page_content
from prism.reporting.model import PAGE_TYPES, ChartSpec, PageContent, RenderedChart, Report, ReportError
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
