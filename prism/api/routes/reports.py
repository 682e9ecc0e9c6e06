"""`POST /api/generate-report`: a dashboard's PDF rendered in a worker thread, a bounded number at once;
the report code is imported on first use so start-up never pays for matplotlib and ReportLab.
"""

from __future__ import annotations

from functools import partial
from types import ModuleType
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import APIRouter, Body, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from models import (
    ErrorBody,
    ReportRequest,
)
from prism.api.deps import ApiKeyGuard, SettingsDep, SimulatorDep
from prism.api.params import ERROR_RESPONSES, TICK_HEADER
from prism.services import services_of

router = APIRouter()


def reports_module() -> ModuleType:
    """The report generator, imported on first use: start-up does not pay for it."""
    import report_generator

    return report_generator


def report_limiter(app: FastAPI) -> anyio.CapacityLimiter:
    """The app's bound on reports rendering at once (made on first use, inside the event loop)."""
    return services_of(app).report_limiter(lambda: reports_module().MAX_CONCURRENT_RENDERS)


@router.post(
    "/api/generate-report",
    tags=["reports"],
    summary="Download a dashboard's report as a PDF",
    dependencies=ApiKeyGuard,
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The report, as a download; a copy is kept in REPORTS_DIR.",
            "headers": {
                "Content-Disposition": {
                    "description": '`attachment; filename="...pdf"`: the name to save it under.',
                    "schema": {"type": "string"},
                },
                "X-Tick": TICK_HEADER,
            },
        },
        **ERROR_RESPONSES,
        413: {"model": ErrorBody, "description": "Body larger than 1 MB."},
        500: {"model": ErrorBody, "description": "Rendering failed: a short reason here, the details in the log."},
        507: {"model": ErrorBody, "description": "No space left to keep a copy of the report."},
    },
)
async def generate_report(
    request: Request,
    simulator: SimulatorDep,
    settings: SettingsDep,
    body: Annotated[ReportRequest | None, Body()] = None,
) -> Response:
    """Render a dashboard's report from the served tick: text the body sends is printed as sent, the rest
    (metrics with their change over the last hour, charts, summary, findings, risks, actions) is computed.
    An empty body asks for the client-profitability report with everything computed."""
    wanted = body or ReportRequest()
    reports = reports_module()
    work = partial(
        reports.create_report,
        wanted,
        snapshot=simulator.snapshot,
        snapshot_at=simulator.snapshot_at,
        reports_dir=settings.reports_dir,
        keep=settings.reports_keep,
    )
    counted = services_of(request.app).metrics.reports
    try:
        # In a worker thread, a bounded number at once: the event loop and the ticks never wait on a PDF.
        report = await anyio.to_thread.run_sync(work, limiter=report_limiter(request.app))
    except reports.ReportError as exc:
        counted.labels(wanted.pageType, "failed").inc()
        return JSONResponse({"detail": exc.reason}, status_code=exc.status_code)
    counted.labels(wanted.pageType, "rendered").inc()
    return Response(
        report.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{report.name}"',
            "X-Tick": str(report.tick),
            "Cache-Control": "no-store",
        },
    )
