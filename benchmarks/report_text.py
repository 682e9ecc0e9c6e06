"""Everything the reports say, for fixed worlds, written to a folder so that a change can be diffed.

For every world (seeds, entity counts and ticks chosen to reach the reports' edge cases: no items, one
of each, several times the default) and page type, one text file holds the page's chart specs, key
metrics, figures, insights, each chart's PNG hash and, for the first worlds, the text pypdf reads from
the PDF of a computed report and of a report with the client's text. Nothing in it depends on the
clock, so two runs of the same code give the same files:

    .venv/bin/python -m benchmarks.report_text /tmp/before   # before the change
    .venv/bin/python -m benchmarks.report_text /tmp/after    # after it
    diff -r /tmp/before /tmp/after
"""

from __future__ import annotations

import hashlib
import io
import sys
from datetime import UTC, datetime
from pathlib import Path

import pypdf

import data_generator as dg
import report_generator as rg
from config import load_settings
from models import ReportRequest
from rules import EntityKind

GENERATED_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
CLIENT_TEXT = {
    "pageTitle": "Board pack <draft> & notes",
    "metrics": [{"label": "Total MRR", "value": "$245,000", "trend": "+3.2%"}, {"label": "Clients", "value": 20}],
    "insights": {"summary": "The dashboard's summary.", "keyFindings": ["A finding."], "nextActions": ["An action."]},
}


def worlds() -> dict[str, tuple[int, dict[EntityKind, int], int]]:
    """Name → (seed, entity counts, tick)."""
    default = load_settings(_env_file=None).entity_counts
    chosen = {
        "default": (20250115, dict(default), 1000),
        "first-tick": (20250115, dict(default), 1),
        "triple": (20250115, {kind: count * 3 for kind, count in default.items()}, 100_000),
        "empty": (20250115, dict.fromkeys(default, 0), 100_000),
        "one-each": (20250115, dict.fromkeys(default, 1), 2000),
        "two-each": (3, dict.fromkeys(default, 2), 20_000),
    }
    for number in range(24):
        scale = (1, 1, 2, 1, 0.5, 1)[number % 6]
        counts = {kind: max(1, int(count * scale)) for kind, count in default.items()}
        chosen[f"seed-{1000 + number}"] = (1000 + number, counts, 200 + number * 3700)
    return chosen


def pdf_text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return f"pages={len(reader.pages)}\n" + "\n<<page>>\n".join(page.extract_text() for page in reader.pages)


def page_lines(page_type: rg.PageType, snapshot: dg.Snapshot, earlier: dg.Snapshot, with_pdf: bool) -> list[str]:
    page = rg.PAGES[page_type]
    lines = [f"{page.title} / {page.dashboard}", *(f"spec={spec!r}" for spec in page.charts(snapshot))]
    content = rg.page_content(page_type, snapshot, lambda: earlier)
    lines += [f"metrics={content.metrics!r}", f"figures={content.figures!r}", f"insights={content.insights!r}"]
    lines += [f"chart={chart.title!r} {hashlib.sha256(chart.png).hexdigest()}" for chart in content.charts]
    for body in ({}, CLIENT_TEXT) if with_pdf else ():
        request = ReportRequest.model_validate({"pageType": page_type, **body})
        lines.append(pdf_text(rg.render_report(request, content, generated_at=GENERATED_AT)))
    return lines


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index, (name, (seed, counts, tick)) in enumerate(worlds().items()):
        generation = dg.new_generation(counts=counts, interval=30, now=dg.FIXED_EPOCH, seed=seed)
        world = dg.World(generation)
        snapshot = dg.compute_snapshot(generation, tick, world)
        earlier = dg.compute_snapshot(generation, max(0, tick - 120), world)
        for page_type in rg.PAGE_TYPES:
            lines = page_lines(page_type, snapshot, earlier, with_pdf=index < 6)
            (folder / f"{name}--{page_type}.txt").write_text("\n".join(lines) + "\n")
    print(f"wrote {len(list(folder.iterdir()))} files to {folder}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("report-text"))
