"""Reports as the service hands them out: one request rendered from the snapshot it names, its file
name, and the newest `REPORTS_KEEP` copies kept in `REPORTS_DIR` (written atomically, pruned oldest first).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from config import now_utc
from data_generator import Snapshot
from models import PageType, ReportRequest
from prism.reporting.content import hour_earlier, page_content
from prism.reporting.model import PAGE_TYPES, Report, ReportError
from prism.reporting.pdf import paragraph_styles, render_report

logger = logging.getLogger("prism.reports")


# Renders at once; more requests wait their turn (rendering is CPU-bound and holds the GIL).
MAX_CONCURRENT_RENDERS = max(1, min(4, os.cpu_count() or 1))


REPORT_NAME = re.compile("^(?:" + "|".join(PAGE_TYPES) + r")-\d{8}T\d{6}Z-[0-9a-f]{6}\.pdf$")


DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def report_name(page_type: PageType, moment: datetime) -> str:
    """A server-made file name: page type, UTC time and a short random suffix."""
    return f"{page_type}-{moment.astimezone(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}.pdf"


def _write_file(path: Path, data: bytes) -> None:
    """Write a file whole or not at all (readers never see half a PDF)."""
    partial_path = path.with_name(f".{path.name}.part")
    try:
        with open(partial_path, "xb") as stream:
            stream.write(data)
        os.replace(partial_path, path)
    except BaseException:
        with contextlib.suppress(OSError):
            partial_path.unlink()
        raise


def prune_reports(reports_dir: Path, keep: int) -> int:
    """Delete all but the newest `keep` reports (only files named like ours); return how many went."""
    found = []
    with os.scandir(reports_dir) as entries:
        for entry in entries:
            if REPORT_NAME.match(entry.name) and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(FileNotFoundError):
                    found.append((entry.stat(follow_symlinks=False).st_mtime_ns, entry.name))
    found.sort(reverse=True)
    for _, name in found[keep:]:
        with contextlib.suppress(FileNotFoundError):
            (reports_dir / name).unlink()
    return max(0, len(found) - keep)


def keep_copy(pdf: bytes, name: str, reports_dir: Path, keep: int) -> Path:
    """Save a report under its name in the reports folder and drop the oldest beyond `keep`."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / name
    _write_file(path, pdf)
    prune_reports(reports_dir, keep)
    return path


def create_report(
    request: ReportRequest,
    *,
    snapshot: Snapshot,
    snapshot_at: Callable[[int], Snapshot],
    reports_dir: Path,
    keep: int,
    clock: Callable[[], datetime] = now_utc,
) -> Report:
    """Render the report a request asks for from a snapshot and keep a copy; blocking, run it in a worker thread."""
    generated_at = clock()
    try:
        content = page_content(request.pageType, snapshot, lambda: hour_earlier(snapshot, snapshot_at))
        pdf = render_report(request, content, generated_at=generated_at)
    except Exception as exc:
        logger.exception("rendering the %s report of tick %d failed", request.pageType, snapshot.tick)
        raise ReportError(500, f"rendering the report failed ({type(exc).__name__})") from exc
    name = report_name(request.pageType, generated_at)
    try:
        keep_copy(pdf, name, reports_dir, keep)
    except OSError as exc:
        logger.exception("keeping a copy of report %s in %s failed", name, reports_dir)
        if exc.errno in DISK_FULL_ERRNOS:
            raise ReportError(507, "no space left on the server to keep a copy of the report") from exc
        raise ReportError(500, f"could not keep a copy of the report ({exc.strerror or type(exc).__name__})") from exc
    return Report(name=name, pdf=pdf, tick=snapshot.tick)


def warm_up() -> None:
    """Import and set up ReportLab ahead of the first report (about 7 MB and 40 ms).

    matplotlib is left to the first chart: it would add about 36 MB to an idle process (issue 12 holds idle
    memory under 100 MB before any report) for about 0.6 s saved once, on the first report of the process.
    """
    import reportlab.platypus  # noqa: F401

    paragraph_styles()
