"""POST /api/generate-report and the report generator behind it."""

from __future__ import annotations

import errno
import io
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pypdf
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response

import kpis
import prism.reporting.content as content_module
import prism.reporting.store as store_module
import report_generator as rg
from data_generator import Snapshot
from main import create_app
from models import ReportRequest
from prism.services import services_of
from simulator import Simulator
from tests.support import PROJECT, make_settings

ROOT = PROJECT
SHORT_FORM = {
    "summary": "Custom summary: margins & <costs> > last month.",
    "insights": {
        "keyFindings": ["Finding one: R&D spend <b>doubled</b>.", "Finding two, plain."],
        "recommendations": ["Rec one > rec two", "Rec two & three"],
    },
}
DASHBOARD_FORM = {
    "pageTitle": "Q3 Board Pack <draft> & notes",
    "data": {"rows": [{"id": "x", "value": 1}], "filters": {"period": "30d"}},
    "metrics": [
        {"label": "Total MRR", "value": "$245,000", "trend": "+3.2%"},
        {"label": "Clients", "value": 20, "trend": "stable"},
        {"label": "Average margin", "value": 31.5, "trend": "down"},
    ],
    "charts": [{"title": "Revenue", "type": "bar", "data": [{"name": "A", "value": 3}]}],
    "insights": {
        "summary": "The dashboard's own AI summary, with <tags> & ampersands.",
        "keyFindings": ["AI finding about churn.", "AI finding about <margins>."],
        "risks": [
            {"level": "high", "description": "Churn in the enterprise tier.", "recommendation": "Call them."},
            {"level": "Critical", "description": "Backlog growth.", "recommendation": "Hire."},
            {"level": "unusual", "description": "Something else.", "recommendation": "Watch it."},
        ],
        "opportunities": ["Upsell premium support."],
        "recommendations": ["AI recommendation one.", "AI recommendation two."],
        "nextActions": ["AI next action."],
    },
}


def words(text: str) -> str:
    """Text with every run of whitespace made one space, as wrapped lines come out of a PDF."""
    return " ".join(text.split())


def pdf_text(response: Response) -> str:
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    return words(" ".join(page.extract_text() for page in reader.pages))


def image_count(response: Response) -> int:
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    return sum(len(page.images) for page in reader.pages)


def served_snapshot(app: FastAPI, response: Response) -> Snapshot:
    """The snapshot a report was made from (its tick is in `X-Tick`)."""
    simulator: Simulator = services_of(app).simulator
    return simulator.snapshot_at(int(response.headers["X-Tick"]))


def computed(app: FastAPI, response: Response, page_type: rg.PageType) -> rg.PageContent:
    simulator: Simulator = services_of(app).simulator
    snapshot = served_snapshot(app, response)
    return rg.page_content(page_type, snapshot, lambda: rg.hour_earlier(snapshot, simulator.snapshot_at))


@pytest.fixture(scope="module")
def reports_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reports-module") / "reports"


@pytest.fixture(scope="module")
def shared_app(reports_dir: Path) -> FastAPI:
    """One app for the read-only tests, so that they share the per-tick chart cache."""
    return create_app(make_settings(reports_dir=reports_dir, reports_keep=1000))


@pytest.fixture(scope="module")
def shared_client(shared_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(shared_app) as test_client:
        yield test_client


def assert_is_report(response: Response) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    match = re.fullmatch(r'attachment; filename="([^"]+)"', disposition)
    assert match is not None
    assert rg.REPORT_NAME.fullmatch(match.group(1))
    assert len(response.content) < 300 * 1024
    assert image_count(response) >= 2


@pytest.mark.parametrize("page_type", rg.PAGE_TYPES)
@pytest.mark.slow
def test_computed_report_holds_title_summary_findings_and_recommendations(
    shared_app: FastAPI, shared_client: TestClient, page_type: rg.PageType
) -> None:
    response = shared_client.post("/api/generate-report", json={"pageType": page_type})
    assert_is_report(response)
    text = pdf_text(response)
    content = computed(shared_app, response, page_type)
    assert rg.PAGES[page_type].title in text
    assert words(content.insights.summary) in text
    for sentence in (*content.insights.key_findings, *content.insights.recommendations):
        assert words(sentence) in text
    for metric in content.metrics:
        assert metric.label in text
        assert metric.value in text


@pytest.mark.parametrize("page_type", rg.PAGE_TYPES)
@pytest.mark.slow
def test_short_form_prints_the_clients_text_literally(shared_client: TestClient, page_type: rg.PageType) -> None:
    response = shared_client.post("/api/generate-report", json={"pageType": page_type, **SHORT_FORM})
    assert_is_report(response)
    text = pdf_text(response)
    assert rg.PAGES[page_type].title in text
    assert words(SHORT_FORM["summary"]) in text  # type: ignore[arg-type]
    insights: dict[str, list[str]] = SHORT_FORM["insights"]  # type: ignore[assignment]
    for sentence in (*insights["keyFindings"], *insights["recommendations"]):
        assert words(sentence) in text


@pytest.mark.parametrize("page_type", rg.PAGE_TYPES)
@pytest.mark.slow
def test_dashboard_form_prints_everything_it_sends(
    shared_app: FastAPI, shared_client: TestClient, page_type: rg.PageType
) -> None:
    response = shared_client.post("/api/generate-report", json={"pageType": page_type, **DASHBOARD_FORM})
    assert_is_report(response)
    text = pdf_text(response)
    insights = DASHBOARD_FORM["insights"]
    assert words(DASHBOARD_FORM["pageTitle"]) in text  # type: ignore[arg-type]
    assert words(insights["summary"]) in text  # type: ignore[index]
    for sentence in (*insights["keyFindings"], *insights["recommendations"], *insights["nextActions"]):  # type: ignore[index]
        assert words(sentence) in text
    for risk in insights["risks"]:  # type: ignore[index]
        for part in ("level", "description", "recommendation"):
            assert risk[part] in text
    for shown in ("$245,000.00", "+3.2%", "31.5"):
        assert shown in text
    # After the client's own findings come the report's, from the live data.
    content = computed(shared_app, response, page_type)
    own = text.index(words(content.insights.key_findings[0]))
    assert own > text.index(words(insights["keyFindings"][-1]))  # type: ignore[index]


def test_empty_body_is_the_computed_client_profitability_report(shared_app: FastAPI, shared_client: TestClient) -> None:
    response = shared_client.post("/api/generate-report")
    assert_is_report(response)
    assert response.headers["content-disposition"].startswith('attachment; filename="client-profitability-')
    text = pdf_text(response)
    assert "Client Profitability Report" in text
    assert words(computed(shared_app, response, "client-profitability").insights.summary) in text


def test_computed_findings_are_true_of_the_snapshot(shared_app: FastAPI, shared_client: TestClient) -> None:
    clients = shared_client.post("/api/generate-report", json={"pageType": "client-profitability"})
    at_risk = sum(
        1 for client in served_snapshot(shared_app, clients).items["clients"] if client["status"] == "At Risk"
    )
    noun = "client is" if at_risk == 1 else "clients are"
    assert f"{at_risk} {noun} At Risk" in pdf_text(clients)

    licenses = shared_client.post("/api/generate-report", json={"pageType": "software-license"})
    snapshot = served_snapshot(shared_app, licenses)
    wasted = sum(round(license["potentialSavings"] * 100) for license in snapshot.items["licenses"])
    assert f"Unused seats cost ${wasted // 100:,}.{wasted % 100:02d} a month" in pdf_text(licenses)


def test_metric_changes_compare_with_the_snapshot_an_hour_earlier() -> None:
    simulator = Simulator(make_settings())
    snapshot = simulator.snapshot
    earlier = rg.hour_earlier(snapshot, simulator.snapshot_at)
    assert snapshot.tick - earlier.tick == 120  # 30 s ticks
    rows = {row.label: row for row in rg.metric_rows(rg.PAGES["client-profitability"], snapshot, earlier)}
    revenue = kpis.total_mrr
    assert rows["Monthly recurring revenue"].value == rg.usd(revenue(snapshot))
    assert rows["Monthly recurring revenue"].change == rg.format_change(revenue(snapshot) - revenue(earlier), "money")


def test_second_report_of_a_tick_reuses_the_charts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    simulator = Simulator(make_settings())
    drawn: list[str] = []
    draw = content_module.draw_chart

    def counting(spec: rg.ChartSpec) -> rg.RenderedChart:
        drawn.append(spec.title)
        return draw(spec)

    monkeypatch.setattr(content_module, "draw_chart", counting)

    def report() -> rg.Report:
        return rg.create_report(
            ReportRequest(pageType="vendor-management"),
            snapshot=simulator.snapshot,
            snapshot_at=simulator.snapshot_at,
            reports_dir=tmp_path,
            keep=10,
        )

    first, second = report(), report()
    assert len(drawn) == 3
    assert first.name != second.name
    assert len(list(tmp_path.iterdir())) == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"pageType": "payroll"}, "pageType"),
        ({"pageType": "../../etc/passwd"}, "pageType"),
        ({"pageTitle": 5}, "pageTitle"),
        ({"pageTitle": "x" * 201}, "pageTitle"),
        ({"metrics": "all of them"}, "metrics"),
        ({"metrics": [{"label": "MRR", "value": True}]}, "value"),
        ({"metrics": [{"label": "MRR", "value": "1", "trend": 3}]}, "trend"),
        ({"insights": {"keyFindings": "one finding"}}, "keyFindings"),
        ({"insights": {"keyFindings": ["x"] * 41}}, "keyFindings"),
        ({"insights": {"risks": [{"level": "high"}]}}, "description"),
        ({"summary": ["not", "text"]}, "summary"),
    ],
)
def test_wrong_bodies_are_refused_naming_the_field(shared_client: TestClient, body: dict[str, Any], field: str) -> None:
    response = shared_client.post("/api/generate-report", json=body)
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["detail"])


def test_oversized_bodies_get_413_and_the_service_stays_healthy(client: TestClient) -> None:
    huge = b'{"data": "' + b"x" * (1024 * 1024) + b'"}'
    assert (
        client.post("/api/generate-report", content=huge, headers={"content-type": "application/json"}).status_code
        == 413
    )

    def chunks() -> Iterator[bytes]:
        yield from (b"x" * 65536 for _ in range(20))

    chunked = client.post("/api/generate-report", content=chunks(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413
    assert chunked.json() == {"detail": "request body larger than 1 MB"}
    assert client.post("/api/scenarios", content=huge, headers={"content-type": "application/json"}).status_code == 413
    assert client.get("/health").status_code == 200


def test_a_body_near_the_limit_is_accepted(shared_client: TestClient) -> None:
    body = b'{"pageType": "sales-pipeline", "data": "' + b"x" * (1024 * 1024 - 100) + b'"}'
    response = shared_client.post("/api/generate-report", content=body, headers={"content-type": "application/json"})
    assert_is_report(response)


@pytest.mark.slow
def test_nothing_from_the_request_reaches_the_file_system(client: TestClient, settings: Any) -> None:
    reports_dir: Path = settings.reports_dir
    base = reports_dir.parent
    traversal = "../../../../tmp/prism-evil"
    bodies: list[dict[str, Any]] = [
        {"pageType": "sales-pipeline/../../x"},
        {"pageTitle": traversal, "summary": "/etc/passwd", "insights": {"keyFindings": ["..\\..\\boot.ini"]}},
        {"pageTitle": "evil.pdf\x00.sh", "metrics": [{"label": traversal, "value": traversal, "trend": traversal}]},
        {"insights": {"risks": [{"level": traversal, "description": traversal}], "nextActions": [traversal]}},
    ]
    statuses = [client.post("/api/generate-report", json=body).status_code for body in bodies]
    assert statuses == [422, 200, 200, 200]
    files = [path for path in base.rglob("*") if path.is_file()]
    assert len(files) == 3
    assert all(path.parent == reports_dir and rg.REPORT_NAME.fullmatch(path.name) for path in files)
    assert not Path("/tmp/prism-evil").exists()
    assert client.get("/health").status_code == 200


@pytest.mark.slow
def test_only_the_newest_reports_are_kept(tmp_path: Path) -> None:
    reports_dir = tmp_path / "reports"
    reports_dir.mkdir()
    (reports_dir / "notes.txt").write_text("not a report")
    app = create_app(make_settings(reports_dir=reports_dir, reports_keep=3))
    with TestClient(app) as test_client:
        names = []
        for page_type in ("sales-pipeline", "sales-pipeline", "software-license", "sales-pipeline", "sales-pipeline"):
            response = test_client.post("/api/generate-report", json={"pageType": page_type})
            assert response.status_code == 200
            names.append(re.findall(r'filename="([^"]+)"', response.headers["content-disposition"])[0])
    kept = sorted(path.name for path in reports_dir.glob("*.pdf"))
    assert kept == sorted(names[-3:])
    assert (reports_dir / "notes.txt").exists()
    assert (reports_dir / names[-1]).read_bytes()[:5] == b"%PDF-"


@pytest.mark.slow
def test_concurrent_requests_all_succeed(shared_client: TestClient, reports_dir: Path) -> None:
    page_types = [*rg.PAGE_TYPES, *rg.PAGE_TYPES[:2]]
    with ThreadPoolExecutor(max_workers=len(page_types)) as pool:
        responses = list(
            pool.map(lambda page: shared_client.post("/api/generate-report", json={"pageType": page}), page_types)
        )
    assert [response.status_code for response in responses] == [200] * len(page_types)
    names = {re.findall(r'filename="([^"]+)"', r.headers["content-disposition"])[0] for r in responses}
    assert len(names) == len(page_types)
    assert all((reports_dir / name).exists() for name in names)


@pytest.mark.slow
def test_a_render_failure_is_a_500_with_a_reason_and_a_logged_traceback(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("the printer caught fire")

    monkeypatch.setattr(store_module, "render_report", broken)
    with caplog.at_level(logging.ERROR, logger="prism.reports"):
        response = client.post("/api/generate-report", json={"pageType": "resource-allocation"})
    assert response.status_code == 500
    assert response.json() == {"detail": "rendering the report failed (RuntimeError)"}
    assert any(record.exc_info and "the printer caught fire" in str(record.exc_info[1]) for record in caplog.records)
    monkeypatch.undo()
    assert client.post("/api/generate-report", json={"pageType": "resource-allocation"}).status_code == 200


@pytest.mark.slow
def test_a_full_disk_is_a_507_and_the_service_carries_on(
    client: TestClient, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store_module, "_write_file", disk_full)
    response = client.post("/api/generate-report")
    assert response.status_code == 507
    assert response.json() == {"detail": "no space left on the server to keep a copy of the report"}
    assert client.get("/health").status_code == 200
    monkeypatch.undo()
    assert client.post("/api/generate-report").status_code == 200
    assert len(list(settings.reports_dir.glob("*.pdf"))) == 1


def test_an_interrupted_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_space(source: str, target: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(OSError, match="No space"):
        rg.keep_copy(b"%PDF-1.4", "sales-pipeline-20250101T000000Z-abcdef.pdf", tmp_path, keep=5)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_reports_need_the_api_key_when_one_is_set(tmp_path: Path) -> None:
    app = create_app(make_settings(api_key="s3cret", reports_dir=tmp_path / "reports"))
    with TestClient(app) as test_client:
        assert test_client.post("/api/generate-report").status_code == 401
        allowed = test_client.post("/api/generate-report", headers={"X-API-Key": "s3cret"})
        assert allowed.status_code == 200


@pytest.mark.parametrize("page_type", rg.PAGE_TYPES)
def test_an_empty_world_still_gives_a_report(tmp_path: Path, page_type: rg.PageType) -> None:
    counts = {
        f"{kind}_count": 0 for kind in ("client", "license", "lead", "technician", "department", "vendor", "contract")
    }
    simulator = Simulator(make_settings(**counts))
    report = rg.create_report(
        ReportRequest(pageType=page_type),
        snapshot=simulator.snapshot,
        snapshot_at=simulator.snapshot_at,
        reports_dir=tmp_path,
        keep=5,
    )
    reader = pypdf.PdfReader(io.BytesIO(report.pdf))
    assert sum(len(page.images) for page in reader.pages) >= 2
    assert "No measure crossed its risk threshold" in words(" ".join(page.extract_text() for page in reader.pages))


def test_any_text_prints(shared_client: TestClient) -> None:
    title = "Ünïcødé — 東京 ✓ 🚀 \t tab\nnew line"
    response = shared_client.post(
        "/api/generate-report",
        json={"pageType": "departmental-spend", "pageTitle": title[:200], "insights": {"summary": "a" * 5000}},
    )
    assert_is_report(response)
    assert "Ünïcødé — " in pdf_text(response)


def test_paragraph_text_is_literal_and_keeps_line_breaks() -> None:
    assert rg.paragraph_text("R&D <b>x</b> > 1\nnext\x07") == "R&amp;D &lt;b&gt;x&lt;/b&gt; &gt; 1<br/>next"


def test_changes_are_signed_and_rounded() -> None:
    assert rg.format_change(1234.4, "money") == "+$1,234.40"
    assert rg.format_change(-0.004, "money") == "no change"
    assert rg.format_change(-0.04, "percent") == "no change"
    assert rg.format_change(-2.26, "percent") == "−2.3 pts"
    assert rg.format_change(0, "count") == "no change"


def test_starting_the_service_does_not_import_the_drawing_libraries() -> None:
    code = "import sys, main; sys.exit(any(name in sys.modules for name in ('matplotlib', 'reportlab')))"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False, timeout=60).returncode == 0


@pytest.mark.slow
def test_a_reports_folder_it_may_not_write_is_a_500_saying_so(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def denied(path: Path, data: bytes) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(store_module, "_write_file", denied)
    response = client.post("/api/generate-report", json={"pageType": "sales-pipeline"})
    assert response.status_code == 500
    assert response.json() == {"detail": "could not keep a copy of the report (Permission denied)"}
    assert any("keeping a copy of report sales-pipeline-" in record.getMessage() for record in caplog.records)
    metrics = client.get("/metrics").text
    assert 'prism_reports_rendered_total{outcome="failed",page_type="sales-pipeline"} 1.0' in metrics
