"""The live console at /console: its files as served (in process), and the page itself driven in headless
Chromium against the real app under uvicorn with half-second ticks (slow).

The browser is Debian's `chromium` (`.ci/run` installs it), driven by Playwright for Python through
`executable_path`: no browser is ever downloaded. Every check compares the page with what the API answers,
and waits with Playwright's auto-retrying `expect`, never with a fixed sleep.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, get_args
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright
from pypdf import PdfReader

from models import PageType
from prism.api.routes import console as console_routes
from prism.api.routes.console import CONSOLE_DIR
from rules import ScenarioName
from tests.support.servers import free_port, running_service, service_process

TICK_SECONDS = "0.5"
WAIT_MS = 30_000  # generous: a loaded two-core machine still passes, and a pass never waits this long
PAGE_BUDGET_BYTES = 300 * 1024
API_KEY = "console-test-key"
# Under `uvicorn main:app` (unlike `python main.py`) SIGTERM does not end the open change feeds: a page's feed
# would hold each server's stop up for uvicorn's whole grace period.
QUICK_STOP = ("--timeout-graceful-shutdown", "1")


# --- the files, in process -------------------------------------------------------------------------------


def page_files(html: str) -> list[str]:
    """The paths the page loads: its `src` and `href` attributes, and the modules its scripts import."""
    paths = re.findall(r'(?:src|href)="([^"]+)"', html)
    for script in CONSOLE_DIR.glob("*.js"):
        paths += [f"/console/{name}" for name in re.findall(r'from "\./([\w.-]+\.js)"', script.read_text())]
    return sorted({path for path in paths if path.startswith("/console")})


def test_the_page_is_served_with_a_policy_forbidding_other_hosts(client: TestClient) -> None:
    response = client.get("/console")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "connect-src 'self'" in policy
    assert "script-src 'self';" in policy  # no inline script, no other host
    again = client.get("/console", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


def test_every_file_the_page_loads_is_served_and_all_of_them_weigh_under_300_kb(client: TestClient) -> None:
    html = client.get("/console").text
    files = page_files(html)
    assert {"/console/console.js", "/console/console.css", "/console/favicon.svg", "/console/tables.js"} <= set(files)
    total = len(html.encode())
    for path in files:
        response = client.get(path, headers={"Accept-Encoding": "identity"})
        assert response.status_code == 200, path
        kind = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}[path.rsplit(".", 1)[1]]
        assert response.headers["content-type"].startswith(kind), path
        total += len(response.content)
    assert total < PAGE_BUDGET_BYTES, f"the console weighs {total / 1024:.0f} KB"


def test_the_page_names_no_other_host() -> None:
    html = (CONSOLE_DIR / "index.html").read_text()
    assert all(path.startswith("/") for path in re.findall(r'(?:src|href)="([^"]+)"', html))
    for script in CONSOLE_DIR.glob("*.js"):
        text = script.read_text()
        # The one absolute URL allowed is SVG's namespace, which is a name, never fetched.
        urls = set(re.findall(r"https?://[^\s\"'`)]+", text)) - {"http://www.w3.org/2000/svg"}
        assert not urls, f"{script.name} names {urls}"


@pytest.mark.parametrize("name", ["__init__.py", "missing.js", "..%2Fapp.py", "index.htm"])
def test_a_name_outside_the_console_files_is_a_404(client: TestClient, name: str) -> None:
    response = client.get(f"/console/{name}")
    assert response.status_code == 404
    assert "detail" in response.json()


def test_the_console_is_linked_from_the_docs_and_is_not_an_operation(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert "/console" in document["info"]["description"]
    assert not [path for path in document["paths"] if path.startswith("/console")]


def test_the_rehearsal_of_bad_days_leaves_the_console_alone(client: TestClient) -> None:
    # ?fail= and ?delay= rehearse the API's failures for a frontend; the page that shows them must still load.
    assert client.get("/console?fail=503").status_code == 200
    assert client.get("/console/console.js?fail=500").status_code == 200
    assert client.get("/api/stats?fail=503").status_code == 503


def test_nobody_on_the_page_costs_the_server_nothing(app: FastAPI) -> None:
    console_routes.load.cache_clear()
    with TestClient(app) as client:
        assert client.get("/api/clients").status_code == 200
        assert client.get("/health").status_code == 200
        assert console_routes.load.cache_info().currsize == 0  # no file of the page read, none kept in memory
        assert client.get("/console").status_code == 200
        assert console_routes.load.cache_info().currsize == 1


def test_large_files_are_sent_compressed_to_a_browser(client: TestClient) -> None:
    response = client.get("/console/console.js", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.text.startswith("//")  # httpx decoded it: the same script


# --- the page, in a real browser ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, driven by Playwright (skips when it is not installed)."""
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.skip("Debian's chromium is needed for the console's browser tests (.ci/run installs it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    reports = tmp_path_factory.mktemp("reports")
    environment = {"UPDATE_INTERVAL_SECONDS": TICK_SECONDS, "REPORTS_DIR": str(reports)}
    with running_service(environment, args=QUICK_STOP) as base_url:
        yield base_url


@dataclass
class Console:
    """An open console page, with what it logged and every URL it requested."""

    page: Page
    base_url: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def open(self) -> None:
        self.page.goto(f"{self.base_url}/console")
        expect(self.page.locator("#connection")).to_have_attribute("data-state", "live", timeout=WAIT_MS)
        expect(self.page.locator(".tile[data-value]")).to_have_count(10, timeout=WAIT_MS)

    def log(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def tile_value(self, kpi: str) -> float:
        return float(self.page.locator(f'.tile[data-kpi="{kpi}"]').get_attribute("data-value") or "")

    def press(self, button: str) -> None:
        """Click the button a reader of the page knows by this name."""
        self.page.get_by_role("button", name=button).click()

    def add_filter(self, field: str, value: str) -> None:
        """Keep the table's rows whose `field` is `value`, as a user picks them in the filter form."""
        self.page.select_option("#filter-field", field)
        self.page.select_option("#filter-value", value)
        self.press("Add filter")

    def start_scenario(self, name: str, duration_ticks: int) -> None:
        """Start a scenario from the form, for a number of ticks."""
        self.page.select_option("#scenario-name", name)
        self.page.fill("#scenario-duration", str(duration_ticks))
        self.press("Start scenario")


@contextmanager
def console_page(browser: Browser, base_url: str) -> Iterator[Console]:
    """A fresh browser context on the console of `base_url`, live before it is handed over."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    console = Console(page, base_url)
    page.on("console", console.log)
    page.on("pageerror", lambda error: console.errors.append(str(error)))
    page.on("request", lambda request: console.requests.append(request.url))
    page.set_default_timeout(WAIT_MS)
    try:
        console.open()
        yield console
    finally:
        context.close()


@pytest.fixture
def console(browser: Browser, service: str) -> Iterator[Console]:
    with console_page(browser, service) as opened:
        yield opened


def served_at(base_url: str, path: str, tick: int) -> httpx.Response:
    """The API's answer to `path` as it was at `tick` (`?at=` the tick's time)."""
    stats = httpx.get(f"{base_url}/api/stats").json()
    epoch = datetime.fromisoformat(stats["epoch"].replace("Z", "+00:00"))
    moment = epoch + timedelta(seconds=tick * stats["update_interval"])
    at = quote(moment.isoformat().replace("+00:00", "Z"))
    answer = httpx.get(f"{base_url}{path}{'&' if '?' in path else '?'}at={at}")
    assert answer.status_code == 200, answer.text
    assert int(answer.headers["x-tick"]) == tick
    return answer


def shown_rows(page: Page) -> dict[str, Any]:
    """The table's query, tick and row ids, read at one instant."""
    result: dict[str, Any] = page.evaluate(
        """() => {
            const table = document.getElementById("table");
            const ids = [...table.tBodies[0].rows].map((row) => row.dataset.id).filter(Boolean);
            return { query: table.dataset.query, tick: Number(table.dataset.tick), ids };
        }"""
    )
    return result


@pytest.mark.slow
def test_the_page_loads_with_no_console_error_and_no_request_to_another_host(console: Console) -> None:
    page = console.page
    for tile in page.locator(".tile").all():
        expect(tile).to_have_attribute("data-value", re.compile(r"^-?[0-9.]+$"))
    expect(page.locator(".tile")).to_have_count(10)
    expect(page.locator("#table tbody tr[data-id]")).to_have_count(20)
    expect(page.locator("#reports button")).to_have_count(6)
    expect(page.locator("#chart svg path.line")).to_have_count(1)
    assert console.errors == []
    assert page.locator(".message.error").count() == 0
    assert console.requests
    assert all(url.startswith(f"{console.base_url}/") for url in console.requests), console.requests


@pytest.mark.slow
def test_the_tick_and_the_kpi_tiles_move_without_a_reload(console: Console) -> None:
    page = console.page
    page.evaluate("() => { window.sameDocument = true; }")
    tick = page.locator("#clock-tick")
    first = tick.inner_text()
    values = page.eval_on_selector_all(".tile", "tiles => tiles.map((tile) => tile.dataset.value)")
    expect(tick).not_to_have_text(first)
    page.wait_for_function(
        "(before) => [...document.querySelectorAll('.tile')].some((tile, i) => tile.dataset.value !== before[i])",
        arg=values,
    )
    assert int(tick.inner_text()) > int(first)
    expect(page.locator("#table tbody tr.changed").first).to_be_visible()  # the rows a tick changed stand out
    assert page.evaluate("() => window.sameDocument") is True


@pytest.mark.slow
def test_filtering_sorting_and_paging_the_table_give_the_rows_of_the_api(console: Console) -> None:
    page = console.page
    table = page.locator("#table")
    console.add_filter("status", "At Risk")
    header = page.locator('#table th[data-field="monthlyRevenue"] button')
    header.click()
    expect(page.locator('#table th[data-field="monthlyRevenue"]')).to_have_attribute("aria-sort", "ascending")
    header.click()
    query = "/api/clients?status=At+Risk&sort=monthlyRevenue&order=desc&limit=20&offset=0"
    expect(table).to_have_attribute("data-query", query)
    shown = shown_rows(page)
    served = served_at(console.base_url, query, shown["tick"]).json()
    assert shown["ids"] == [client["id"] for client in served]
    assert all(client["status"] == "At Risk" for client in served)

    console.press("Remove filter status")
    page.select_option("#page-size", "10")
    console.press("Next page")
    query = "/api/clients?sort=monthlyRevenue&order=desc&limit=10&offset=10"
    expect(table).to_have_attribute("data-query", query)
    expect(page.locator("#page-info")).to_have_text("11–20 of 20")
    shown = shown_rows(page)
    served = served_at(console.base_url, query, shown["tick"]).json()
    assert shown["ids"] == [client["id"] for client in served]
    assert len(served) == 10


@pytest.mark.slow
def test_a_click_on_a_row_opens_the_item_and_its_history(console: Console) -> None:
    page = console.page
    page.locator('#table tbody tr[data-id="client-3"]').click()
    expect(page.locator("#item")).to_be_visible()
    expect(page.locator("#item-title")).to_contain_text("client-3")
    expect(page.locator("#item-json")).to_contain_text('"id": "client-3"')
    expect(page.locator("#item-chart svg path.line")).to_have_count(1)
    expect(page.locator("#item-changes li").first).to_be_visible()
    console.press("Close")
    expect(page.locator("#item")).to_be_hidden()


@pytest.mark.slow
def test_a_churn_wave_started_from_the_form_runs_and_the_at_risk_tile_rises(console: Console) -> None:
    page = console.page
    before = console.tile_value("atRiskClients")
    console.start_scenario("churn-wave", duration_ticks=400)
    running = page.locator('#scenario-runs li[data-name="churn-wave"][data-state="running"]')
    expect(running).to_contain_text("ticks left")
    page.wait_for_function(
        "(before) => Number(document.querySelector('.tile[data-kpi=\"atRiskClients\"]').dataset.value) > before",
        arg=before,
    )
    runs = httpx.get(f"{console.base_url}/api/scenarios").json()["runs"]
    assert [run["name"] for run in runs if run["active"]] == ["churn-wave"]
    assert console.errors == []


@pytest.mark.slow
def test_the_chart_draws_a_day_and_a_week_from_the_history(console: Console) -> None:
    page = console.page
    for span in ("day", "week"):
        button = page.locator(f'#chart-range button[data-range="{span}"]')
        button.click()
        expect(button).to_have_attribute("aria-pressed", "true")
        expect(page.locator("#chart svg path.line")).to_have_count(1)
        expect(page.locator("#chart-note")).to_contain_text("points from /api/history")
    asked = [parse_qs(urlsplit(url).query) for url in console.requests if urlsplit(url).path == "/api/history"]
    starts = sorted(datetime.fromisoformat(query["from"][0].replace("Z", "+00:00")) for query in asked)
    # The longer ranges were asked of the API (a week back), not drawn from the hour the tiles hold.
    assert starts[-1] - starts[0] > timedelta(days=6)
    assert console.errors == []


@pytest.mark.slow
def test_every_report_scenario_and_mirror_control_the_api_offers_is_on_the_page(console: Console) -> None:
    page = console.page
    buttons = page.locator("#reports button[data-page-type]")
    expect(buttons).to_have_count(len(get_args(PageType)))
    assert {buttons.nth(i).get_attribute("data-page-type") for i in range(buttons.count())} == set(get_args(PageType))
    names = [option.get_attribute("value") for option in page.locator("#scenario-name option").all()]
    assert set(names) == set(get_args(ScenarioName))
    vendor = page.locator("#scenario-vendor-label")
    page.select_option("#scenario-name", "vendor-outage")
    expect(vendor).to_be_visible()
    vendors = httpx.get(f"{console.base_url}/api/vendors").json()
    choices = page.locator("#scenario-vendor option")
    expect(choices).to_have_count(len(vendors) + 1)  # each vendor, or the simulation's choice
    values = [choice.get_attribute("value") or "" for choice in choices.all()]
    assert values[0] == ""
    assert sorted(values[1:]) == sorted(vendor["id"] for vendor in vendors)
    page.select_option("#scenario-name", "churn-wave")
    expect(vendor).to_be_hidden()
    page.locator("#sync").click()
    expect(page.locator("#messages")).to_contain_text("DynamoDB sync is off")
    expect(page.locator("#dynamodb")).to_contain_text("off")
    assert console.errors == []


@pytest.mark.slow
def test_a_report_button_downloads_the_pdf(console: Console, tmp_path: Path) -> None:
    page = console.page
    with page.expect_download(timeout=60_000) as download:
        page.locator('#reports button[data-page-type="software-license"]').click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".pdf"
    assert saved.read_bytes().startswith(b"%PDF-")
    assert len(PdfReader(saved).pages) >= 1
    expect(page.locator(".message.success")).to_contain_text("Downloaded")


@pytest.mark.slow
def test_regenerate_asks_twice_and_the_clock_shows_the_new_seed_exactly(console: Console) -> None:
    page = console.page
    seed = page.locator("#clock-seed")
    old_seed = seed.inner_text()
    button = page.locator("#regenerate")
    button.click()
    expect(button).to_have_text("Click again to regenerate")
    assert httpx.get(f"{console.base_url}/api/stats").json()["seed"] == int(old_seed)  # nothing happened yet
    button.click()
    expect(seed).not_to_have_text(old_seed)
    # A 64-bit seed, digit for digit as the API wrote it (a JavaScript number would round it).
    assert int(seed.inner_text()) == httpx.get(f"{console.base_url}/api/stats").json()["seed"]
    expect(page.locator(".message.success")).to_contain_text(f"seed {seed.inner_text()}")


@pytest.mark.slow
def test_with_the_server_stopped_the_page_says_so_and_recovers_when_it_is_back(browser: Browser) -> None:
    environment = {"UPDATE_INTERVAL_SECONDS": TICK_SECONDS}
    port = free_port()
    with (
        service_process(environment, port=port, args=QUICK_STOP) as (base_url, process),
        console_page(browser, base_url) as console,
    ):
        page = console.page
        process.kill()  # a crash or a cut cable: nothing is said to the page
        process.wait(timeout=10)
        connection = page.locator("#connection")
        expect(connection).to_have_attribute("data-state", re.compile("reconnecting|lost"))
        expect(connection).to_contain_text("Connection lost")
        expect(page.locator("#banner")).to_be_visible()
        stopped_at = page.locator("#clock-tick").inner_text()
        with running_service(environment, port=port, args=QUICK_STOP):
            expect(connection).to_have_attribute("data-state", "live")
            expect(page.locator("#banner")).to_be_hidden()
            expect(page.locator("#clock-tick")).not_to_have_text(stopped_at)


@pytest.mark.slow
def test_with_an_api_key_set_a_post_without_it_shows_the_401(browser: Browser) -> None:
    environment = {"UPDATE_INTERVAL_SECONDS": TICK_SECONDS, "API_KEY": API_KEY}
    with running_service(environment, args=QUICK_STOP) as base_url, console_page(browser, base_url) as console:
        page = console.page
        console.press("Sync now")
        error = page.locator(".message.error")
        expect(error).to_contain_text("401")
        expect(error).to_contain_text("X-API-Key")
        page.fill("#api-key", API_KEY)
        console.press("Sync now")
        expect(page.locator(".message:not(.error)")).to_contain_text("DynamoDB sync is off")
