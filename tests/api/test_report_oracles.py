"""Reports against an oracle: each page's key metrics and chart data worked out from the items in the test.

For every page type the report is asked for over HTTP with the short body, its PDF is read with pypdf, and
each key metric must be printed next to its label as the test formats it; the chart data the generator
returns (labels and series values) must be what the items give, in the order the chart's title says.
Nothing here calls report_generator's measures or formatters: only the chart functions, to read their data.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pypdf
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import data_generator as dg
import report_generator as rg
from data_generator import Snapshot
from main import create_app
from prism.memo import Memo
from prism.services import services_of
from simulator import Simulator
from tests.support import SEED, make_settings

Item = dict[str, Any]
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --- the test's own formatting of figures ----------------------------------------------------------


def money_text(amount: float) -> str:
    """Dollars and cents with thousands separators, as reports print money: `$1,234.56`, `-$5.00`."""
    cents = round(amount * 100)
    return f"{'-' if cents < 0 else ''}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def percent_text(value: float) -> str:
    return f"{value:.1f}%"


def count_text(value: float) -> str:
    return f"{round(value):,}"


def hours_text(value: float) -> str:
    return f"{round(value):,} h"


def score_text(value: float) -> str:
    return f"{value:.1f}"


def month_label(month: str) -> str:
    """`2026-03` as a chart prints it: `Mar '26`."""
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]} '{year[2:]}"


# --- plain arithmetic --------------------------------------------------------------------------------


def total(items: Sequence[Item], measure: Callable[[Item], float]) -> float:
    result = 0.0
    for item in items:
        result += measure(item)
    return result


def mean(items: Sequence[Item], measure: Callable[[Item], float]) -> float:
    return total(items, measure) / len(items) if items else 0.0


def share(part: float, whole: float) -> float:
    return part / whole * 100 if whole else 0.0


def count(items: Sequence[Item], test: Callable[[Item], bool]) -> int:
    return sum(1 for item in items if test(item))


def totals_by(items: Sequence[Item], key: str, measure: Callable[[Item], float]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for item in items:
        totals[item[key]] = totals.get(item[key], 0.0) + measure(item)
    return totals


def largest_first(totals: dict[str, float], limit: int) -> list[str]:
    return sorted(totals, key=lambda name: -totals[name])[:limit]


def within(day: str, today: date, days: int) -> bool:
    return today <= date.fromisoformat(day) <= today + timedelta(days=days)


def next_twelve_months(today: date) -> list[str]:
    months = []
    for step in range(12):
        index = today.month - 1 + step
        months.append(f"{today.year + index // 12:04d}-{index % 12 + 1:02d}")
    return months


def per_month(
    items: Sequence[Item], day_field: str, months: Sequence[str], measure: Callable[[Item], float]
) -> list[float]:
    return [total([item for item in items if item[day_field][:7] == month], measure) for month in months]


# --- what each page should show ------------------------------------------------------------------------


@dataclass
class Expected:
    """A page's key metrics (label -> figure as printed, and the amount when it is money) and its charts' data."""

    metrics: dict[str, tuple[str, float | None]] = field(default_factory=dict)
    charts: dict[str, tuple[list[str], list[list[float]], float]] = field(default_factory=dict)

    def money(self, label: str, amount: float) -> None:
        self.metrics[label] = (money_text(amount), amount)

    def figure(self, label: str, text: str) -> None:
        self.metrics[label] = (text, None)

    def chart(self, title: str, labels: Sequence[str], *series: Sequence[float], within: float = 1e-6) -> None:
        """A chart's labels and series; values may differ from the expected ones by `within` (float sums)."""
        self.charts[title] = (list(labels), [list(values) for values in series], within)


def client_profitability(snapshot: Snapshot) -> Expected:
    clients = list(snapshot.items["clients"])
    expected = Expected()
    expected.money("Monthly recurring revenue", total(clients, lambda c: c["monthlyRecurring"]))
    expected.figure("Average margin", percent_text(mean(clients, lambda c: c["marginPercentage"])))
    expected.money("Annual gross profit", total(clients, lambda c: c["annualRevenue"] - c["annualCosts"]))
    expected.figure("Clients at risk", count_text(count(clients, lambda c: c["status"] == "At Risk")))
    expected.figure("Clients with high churn risk", count_text(count(clients, lambda c: c["churnRisk"] == "High")))
    revenues = sorted((c["annualRevenue"] for c in clients), reverse=True)
    top_fifth = sum(revenues[: math.ceil(len(clients) / 5)])
    expected.figure("Revenue share of the top 20% of clients", percent_text(share(top_fifth, sum(revenues))))

    tiers = ("Standard", "Premium", "Enterprise")
    by_tier = totals_by(clients, "contractType", lambda c: c["monthlyRecurring"])
    expected.chart("Monthly recurring revenue by contract tier", tiers, [by_tier.get(tier, 0.0) for tier in tiers])
    lowest = sorted(clients, key=lambda c: c["marginPercentage"])[:20]
    expected.chart(
        "Margin by client, lowest first (colour: churn risk)",
        [c["name"] for c in lowest],
        [c["marginPercentage"] for c in lowest],
    )
    largest = sorted(clients, key=lambda c: -c["monthlyRecurring"])[:10]
    expected.chart(
        "Monthly revenue and cost to serve, ten largest clients",
        [c["name"] for c in largest],
        [c["monthlyRevenue"] for c in largest],
        [c["monthlyCosts"] for c in largest],
    )
    return expected


def software_license(snapshot: Snapshot) -> Expected:
    licenses = list(snapshot.items["licenses"])
    today = snapshot.time.date()
    expected = Expected()
    seats_used = total(licenses, lambda lic: lic["usedLicenses"])
    seats_bought = total(licenses, lambda lic: lic["totalLicenses"])
    expected.money("Monthly license cost", total(licenses, lambda lic: lic["monthlyCost"]))
    expected.figure("Seat utilisation", percent_text(share(seats_used, seats_bought)))
    expected.figure("Unused seats", count_text(seats_bought - seats_used))
    expected.money("Monthly cost of unused seats", total(licenses, lambda lic: lic["potentialSavings"]))
    over = count(licenses, lambda lic: lic["complianceStatus"] == "Over-allocated")
    expected.figure("Over-allocated licenses", count_text(over))
    renewing = count(licenses, lambda lic: within(lic["renewalDate"], today, 90))
    expected.figure("Renewals in the next 90 days", count_text(renewing))

    wasteful = sorted(licenses, key=lambda lic: -lic["potentialSavings"])[:10]
    expected.chart(
        "Monthly cost of unused seats, top ten licenses",
        [lic["product"] for lic in wasteful],
        [lic["potentialSavings"] for lic in wasteful],
    )
    # Monthly cost of the seats in use: all seats' monthly cost less the unused seats' (both keep their meaning
    # whether costPerLicense is per month or per year).
    in_use = totals_by(licenses, "vendor", lambda lic: lic["monthlyCost"] - lic["potentialSavings"])
    unused = totals_by(licenses, "vendor", lambda lic: lic["potentialSavings"])
    vendors = largest_first({vendor: in_use[vendor] + unused[vendor] for vendor in in_use}, 10)
    expected.chart(
        "Monthly cost by vendor: seats in use and unused",
        vendors,
        [in_use[vendor] for vendor in vendors],
        [unused[vendor] for vendor in vendors],
        within=0.01 * len(licenses),  # each license's two figures are rounded to cents
    )
    months = next_twelve_months(today)
    expected.chart(
        "Annual cost up for renewal, next twelve months",
        [month_label(month) for month in months],
        per_month(licenses, "renewalDate", months, lambda lic: lic["annualCost"]),
    )
    return expected


def weighted(lead: Item) -> float:
    return lead["value"] * lead["probability"] / 100


def sales_pipeline(snapshot: Snapshot) -> Expected:
    leads = list(snapshot.items["leads"])
    today = snapshot.time.date()
    active = [lead for lead in leads if lead["stage"] not in ("Closed Won", "Closed Lost")]
    won = count(leads, lambda lead: lead["stage"] == "Closed Won")
    lost = count(leads, lambda lead: lead["stage"] == "Closed Lost")
    expected = Expected()
    expected.money("Open pipeline value", total(active, lambda lead: lead["value"]))
    expected.money("Weighted pipeline value", total(active, weighted))
    expected.figure("Open opportunities", count_text(len(active)))
    expected.figure("Win rate", percent_text(won / (won + lost) * 100) if won + lost else "n/a")
    expected.money("Average open deal size", mean(active, lambda lead: lead["value"]))
    soon = [lead for lead in active if within(lead["expectedCloseDate"], today, 30)]
    expected.money("Expected to close in 30 days", total(soon, lambda lead: lead["value"]))

    stages = ("Prospecting", "Qualification", "Proposal", "Negotiation")
    value = totals_by(active, "stage", lambda lead: lead["value"])
    weighted_value = totals_by(active, "stage", weighted)
    expected.chart(
        "Open pipeline by stage: total and weighted value",
        stages,
        [value.get(stage, 0.0) for stage in stages],
        [weighted_value.get(stage, 0.0) for stage in stages],
    )
    by_source = totals_by(active, "source", lambda lead: lead["value"])
    sources = largest_first(by_source, 10)
    expected.chart("Open pipeline by lead source", sources, [by_source[source] for source in sources])
    months = sorted({lead["expectedCloseDate"][:7] for lead in active})[:12]
    expected.chart(
        "Weighted value by expected close month",
        [month_label(month) for month in months],
        per_month(active, "expectedCloseDate", months, weighted),
    )
    return expected


def resource_allocation(snapshot: Snapshot) -> Expected:
    technicians = list(snapshot.items["technicians"])
    expected = Expected()
    billable = total(technicians, lambda t: t["billableHours"])
    expected.figure("Team utilisation", percent_text(share(billable, total(technicians, lambda t: t["totalHours"]))))
    expected.figure("Billable hours this month", hours_text(billable))
    expected.money("Billable revenue this month", total(technicians, lambda t: t["billableHours"] * t["hourlyRate"]))
    expected.figure("Average efficiency", percent_text(mean(technicians, lambda t: t["efficiency"])))
    expected.figure("Technicians above 90%", count_text(count(technicians, lambda t: t["utilization"] > 90)))
    expected.figure("Available technicians", count_text(count(technicians, lambda t: t["status"] == "Available")))

    busiest = sorted(technicians, key=lambda t: -t["utilization"])[:20]
    expected.chart(
        "Utilisation by technician against the 75% target",
        [t["name"] for t in busiest],
        [t["utilization"] for t in busiest],
    )
    by_role = totals_by(technicians, "role", lambda t: t["billableHours"] * t["hourlyRate"])
    roles = largest_first(by_role, 20)
    expected.chart("Billable revenue this month by role", roles, [by_role[role] for role in roles])
    statuses = ("Available", "Busy", "On Leave")
    by_status = totals_by(technicians, "status", lambda t: 1)
    expected.chart("Technicians by status", statuses, [by_status.get(status, 0) for status in statuses])
    return expected


def year_gone(moment: datetime) -> float:
    """Share of the calendar year gone by at a moment, %."""
    start, end = datetime(moment.year, 1, 1, tzinfo=UTC), datetime(moment.year + 1, 1, 1, tzinfo=UTC)
    return (moment - start).total_seconds() / (end - start).total_seconds() * 100


def departmental_spend(snapshot: Snapshot) -> Expected:
    departments = list(snapshot.items["departments"])
    expected = Expected()
    budget = total(departments, lambda d: d["budget"])
    spent = total(departments, lambda d: d["spent"])
    gone = year_gone(snapshot.time)
    expected.money("Annual budget", budget)
    expected.money("Spent this year to date", spent)
    expected.figure("Spend pace against the calendar", percent_text(share(share(spent, budget), gone)))
    expected.money("Spend this month", total(departments, lambda d: d["actualSpend"]))
    expected.money("Monthly variance (negative = over)", total(departments, lambda d: d["variance"]))
    over = count(departments, lambda d: d["actualSpend"] > d["monthlyBudget"])
    expected.figure("Departments over monthly budget", count_text(over))

    shown = departments[:20]
    expected.chart(
        "Budget used this year by department, against the share of the year gone",
        [d["name"] for d in shown],
        [share(d["spent"], d["budget"]) for d in shown],
    )
    months = [entry["month"] for entry in departments[0]["historicalSpend"]] if departments else []
    entries = [entry for department in departments for entry in department["historicalSpend"]]
    spend = per_month(entries, "month", months, lambda entry: entry["amount"])
    expected.chart(
        "Spend of all departments, last twelve months, against the monthly budget",
        [month_label(month) for month in months],
        spend,
    )
    categories = [category for d in departments for category in d["categories"]]
    by_category = totals_by(categories, "name", lambda category: category["spend"])
    names = largest_first(by_category, len(by_category))
    expected.chart("This month's spend by category, all departments", names, [by_category[name] for name in names])
    return expected


def vendor_management(snapshot: Snapshot) -> Expected:
    vendors = list(snapshot.items["vendors"])
    contracts = list(snapshot.items["contracts"])
    today = snapshot.time.date()
    live = [contract for contract in contracts if contract["status"] != "Expired"]
    expected = Expected()
    spend = total(vendors, lambda v: v["totalSpend"])
    top_three = sum(sorted((v["totalSpend"] for v in vendors), reverse=True)[:3])
    expected.money("Vendor spend, last 12 months", spend)
    expected.figure("Spend share of the top 3 vendors", percent_text(share(top_three, spend)))
    expected.figure("Active contracts", count_text(len(live)))
    expiring = count(contracts, lambda c: c["status"] == "Expiring Soon")
    expected.figure("Contracts expiring in 90 days", count_text(expiring))
    expected.figure("Average vendor performance", score_text(mean(vendors, lambda v: v["performanceScore"])))
    expected.figure("Average SLA compliance", percent_text(mean(live, lambda c: c["slaCompliance"])))

    biggest = sorted(vendors, key=lambda v: -v["totalSpend"])[:10]
    expected.chart(
        "Spend by vendor, last twelve months (ten largest)",
        [v["name"] for v in biggest],
        [v["totalSpend"] for v in biggest],
    )
    weakest = sorted(vendors, key=lambda v: v["performanceScore"])[:20]
    expected.chart(
        "Vendor performance score, weakest first",
        [v["name"] for v in weakest],
        [v["performanceScore"] for v in weakest],
    )
    months = next_twelve_months(today)
    expected.chart(
        "Contract value ending per month, next twelve months",
        [month_label(month) for month in months],
        per_month([c for c in contracts if c["autoRenew"]], "endDate", months, lambda c: c["value"]),
        per_month([c for c in contracts if not c["autoRenew"]], "endDate", months, lambda c: c["value"]),
    )
    return expected


ORACLES: dict[rg.PageType, Callable[[Snapshot], Expected]] = {
    "client-profitability": client_profitability,
    "software-license": software_license,
    "sales-pipeline": sales_pipeline,
    "resource-allocation": resource_allocation,
    "departmental-spend": departmental_spend,
    "vendor-management": vendor_management,
}


# --- the reports ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    """A report as served: its PDF's text (whitespace runs made single spaces) and the snapshot it names."""

    text: str
    snapshot: Snapshot


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    reports: Path = tmp_path_factory.mktemp("oracle-reports")
    return create_app(make_settings(reports_dir=reports))


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def served(app: FastAPI, client: TestClient) -> dict[str, Served]:
    """One report of each page type, asked for with the short body."""
    simulator: Simulator = services_of(app).simulator
    reports: dict[str, Served] = {}
    for page_type in rg.PAGE_TYPES:
        response = client.post("/api/generate-report", json={"pageType": page_type})
        assert response.status_code == 200, response.text
        reader = pypdf.PdfReader(io.BytesIO(response.content))
        text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
        reports[page_type] = Served(text, simulator.snapshot_at(int(response.headers["X-Tick"])))
    return reports


def assert_printed(text: str, label: str, figure: str) -> None:
    assert f"{label} {figure} " in text, f"{label!r} should print {figure!r}"


def check_figures(text: str, snapshot: Snapshot, page_type: rg.PageType) -> None:
    """Every key metric but money printed as the test formats it."""
    for label, (figure, amount) in ORACLES[page_type](snapshot).metrics.items():
        if amount is None:
            assert_printed(text, label, figure)


def check_amounts(text: str, snapshot: Snapshot, page_type: rg.PageType) -> None:
    """Every money metric printed with its amount, whichever way it is written: to the dollar in dollars, to
    the cent with cents."""
    for label, (_, amount) in ORACLES[page_type](snapshot).metrics.items():
        if amount is None:
            continue
        printed = re.search(rf"{re.escape(label)} (-?)\$([0-9,]+)(\.[0-9]{{2}})? ", text)
        assert printed is not None, f"{label!r}: no amount printed"
        sign, dollars, cents = printed.groups()
        shown = float(dollars.replace(",", "") + (cents or "")) * (-1 if sign else 1)
        assert abs(shown - amount) <= (0.005 if cents else 0.5) + 1e-6, f"{label!r}: {printed.group(0)!r} for {amount}"


def check_cents(text: str, snapshot: Snapshot, page_type: rg.PageType) -> None:
    """Every money metric printed with cents and thousands separators (issue 10's format)."""
    for label, (figure, amount) in ORACLES[page_type](snapshot).metrics.items():
        if amount is not None:
            assert_printed(text, label, figure)


def check_charts(snapshot: Snapshot, page_type: rg.PageType) -> None:
    """The chart data the generator returns is what the items give, in the order the titles say."""
    expected = ORACLES[page_type](snapshot).charts
    charts = {chart.title: chart for chart in rg.PAGES[page_type].charts(snapshot)}
    assert list(charts) == list(expected)
    for title, (labels, series, tolerance) in expected.items():
        chart = charts[title]
        assert list(chart.labels) == labels, title
        assert len(chart.series) == len(series), title
        for drawn, values in zip(chart.series, series, strict=True):
            assert list(drawn.values) == pytest.approx(values, rel=1e-9, abs=tolerance), f"{title}: {drawn.name}"
        if any(snapshot.items.values()):
            assert any(value > 0 for values in series for value in values), f"{title}: all zero"


# --- in the PDF, over HTTP -----------------------------------------------------------------------------


@pytest.mark.parametrize("page_type", rg.PAGE_TYPES)
@pytest.mark.slow
def test_key_metrics_other_than_money_are_printed_as_the_items_give_them(
    served: dict[str, Served], page_type: rg.PageType
) -> None:
    check_figures(served[page_type].text, served[page_type].snapshot, page_type)


@pytest.mark.parametrize("page_type", rg.PAGE_TYPES)
@pytest.mark.slow
def test_money_metrics_print_the_amount_the_items_give(served: dict[str, Served], page_type: rg.PageType) -> None:
    check_amounts(served[page_type].text, served[page_type].snapshot, page_type)


# PENDING ISSUE 10: money with cents ("$1,234.56") is issue 10's format; these fail until it lands.
@pytest.mark.parametrize("page_type", rg.PAGE_TYPES)
def test_money_metrics_are_printed_with_cents_as_the_items_give_them(
    served: dict[str, Served], page_type: rg.PageType
) -> None:
    check_cents(served[page_type].text, served[page_type].snapshot, page_type)


@pytest.mark.parametrize("page_type", rg.PAGE_TYPES)
def test_every_key_metric_is_checked(served: dict[str, Served], page_type: rg.PageType) -> None:
    """The oracle covers every row of the page's key-metrics table, and each row is in the PDF."""
    labels = [metric.label for metric in rg.PAGES[page_type].metrics]
    assert list(ORACLES[page_type](served[page_type].snapshot).metrics) == labels
    for label in labels:
        assert f" {label} " in served[page_type].text


@pytest.mark.parametrize("page_type", rg.PAGE_TYPES)
def test_chart_data_is_what_the_items_give_in_the_order_the_title_says(
    served: dict[str, Served], page_type: rg.PageType
) -> None:
    check_charts(served[page_type].snapshot, page_type)
    for title in ORACLES[page_type](served[page_type].snapshot).charts:
        assert title in served[page_type].text


# --- the same without HTTP, over more worlds and ticks (quick: what the mutation benchmark leans on) ----------

# (scale of the default counts, tick) by name: worlds named after their numbers, an empty one, and one whose
# items sit on the reports' edges.
WORLDS = {
    f"{scale}x-tick{tick}": (scale, tick) for scale, tick in ((1, 3_000), (1, 100_000), (1, 300_000), (5, 200_000))
}
WORLDS |= {"empty": (0, 100_000), "boundaries": (1, 100_000)}


def on_the_boundaries(snapshot: Snapshot) -> Snapshot:
    """The snapshot with items put on the edges of the reports' windows and thresholds."""
    today = snapshot.time.date()
    items = {kind: [dict(item) for item in entities] for kind, entities in snapshot.items.items()}
    # Renewals "in the next 90 days": yesterday and day 91 are out, today and day 90 in.
    for license, days in zip(items["licenses"], (-1, 0, 90, 91), strict=False):
        license["renewalDate"] = (today + timedelta(days=days)).isoformat()
    # Open leads "expected to close in 30 days": the same edges.
    open_leads = [lead for lead in items["leads"] if lead["stage"] not in ("Closed Won", "Closed Lost")]
    for lead, days in zip(open_leads, (-1, 0, 30, 31), strict=False):
        lead["expectedCloseDate"] = (today + timedelta(days=days)).isoformat()
    # Departments exactly on their monthly budget, and 50 cents under it, are not over it.
    for department, under in zip(items["departments"], (0.0, 0.5), strict=False):
        department["actualSpend"] = round(department["monthlyBudget"] - under, 2)
        department["variance"] = under
    return replace(snapshot, items={kind: tuple(entities) for kind, entities in items.items()}, cache=Memo())


@pytest.fixture(scope="module", params=list(WORLDS))
def world(request: pytest.FixtureRequest) -> tuple[Snapshot, Snapshot]:
    """A snapshot of a fixed generation (default counts, a multiple or none) and the one an hour before it."""
    scale, tick = WORLDS[request.param]
    counts = {kind: number * scale for kind, number in make_settings().entity_counts.items()}
    generation = dg.new_generation(counts=counts, interval=30, now=dg.FIXED_EPOCH, seed=SEED)
    engine = dg.World(generation)
    snapshot = dg.compute_snapshot(generation, tick, engine)
    if request.param == "boundaries":
        snapshot = on_the_boundaries(snapshot)
    return snapshot, dg.compute_snapshot(generation, tick - 120, engine)


def metrics_text(page_type: rg.PageType, snapshot: Snapshot, earlier: Snapshot) -> str:
    """The key-metrics table as the PDF prints it: label, value and change of each row."""
    rows = rg.metric_rows(rg.PAGES[page_type], snapshot, earlier)
    return " ".join(f"{row.label} {row.value} {row.change}" for row in rows) + " "


@pytest.mark.parametrize("page_type", rg.PAGE_TYPES)
def test_key_metrics_in_many_worlds(world: tuple[Snapshot, Snapshot], page_type: rg.PageType) -> None:
    snapshot, earlier = world
    text = metrics_text(page_type, snapshot, earlier)
    check_figures(text, snapshot, page_type)
    check_amounts(text, snapshot, page_type)


@pytest.mark.parametrize("page_type", rg.PAGE_TYPES)
def test_chart_data_in_many_worlds(world: tuple[Snapshot, Snapshot], page_type: rg.PageType) -> None:
    check_charts(world[0], page_type)
