"""What the Prism Insights dashboard computes with: units, vocabularies, ids and the reports it prints.

Each expectation is the dashboard's own arithmetic or threshold written out here (not the service's
code): license prices per seat per year, status and churn risk from the margin bands 20 / 15 / 25,
one company per id, 0-100 satisfaction, six-month histories, unit symbols, `lastUpdated` that moves
only with a real change, integer counts, and reports whose figures are formatted and agree with the
live data they name.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pypdf
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import data_generator as dg
import events
from main import create_app
from prism.services import services_of
from rules import EntityKind
from simulator import Simulator
from tests.support import SEED, make_settings

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
COUNTS = make_settings().entity_counts
TICKS_PER_YEAR = 365 * 2880  # at 30-second ticks

# Real yearly list prices per seat (publishers' price lists, billed annually).
LIST_PRICES_PER_YEAR = {
    "Microsoft 365 E5": 684.00,
    "Microsoft 365 E3": 432.00,
    "Microsoft 365 Business Premium": 264.00,
    "Datto RMM": 39.00,
    "Sales Cloud Enterprise": 1980.00,
}
CENT = 0.0100001


def generation(seed: int = SEED, interval: float = 30, **counts: int) -> dg.Generation:
    assert set(counts) <= set(COUNTS), counts
    merged: dict[EntityKind, int] = {kind: counts.get(kind, count) for kind, count in COUNTS.items()}
    return dg.new_generation(counts=merged, interval=interval, now=NOW, seed=seed)


def only(**counts: int) -> dict[str, int]:
    """Counts with every entity at zero but the ones given."""
    return {**dict.fromkeys(dg.ENTITY_KINDS, 0), **counts}


def at_risk(margin: float) -> str:
    return "At Risk" if margin < 20 else "Active"


def churn_risk(margin: float) -> str:
    return "High" if margin < 15 else "Medium" if margin < 25 else "Low"


def without_stamp(item: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in item.items() if name != "lastUpdated"}


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app(make_settings())


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


# --- 1. licenses: yearly prices per seat, and both pages' savings agree -------------------


def test_license_prices_are_per_seat_per_year_and_both_pages_agree_on_savings(client: TestClient) -> None:
    licenses = client.get("/api/licenses").json()
    for lic in licenses:
        seats, unused, price = lic["totalLicenses"], lic["availableLicenses"], lic["costPerLicense"]
        assert abs(lic["totalCost"] - seats * price) <= CENT, lic
        assert lic["annualCost"] == lic["totalCost"], lic
        assert abs(lic["monthlyCost"] - lic["totalCost"] / 12) <= CENT, lic
        assert abs(lic["potentialSavings"] - unused * price / 12) <= CENT, lic
        if lic["product"] in LIST_PRICES_PER_YEAR:
            assert price == LIST_PRICES_PER_YEAR[lic["product"]], lic
    # The license page: "Total Monthly Cost" = sum(totalCost) / 12, savings = unused x costPerLicense / 12;
    # the overview sums potentialSavings. They must show the same money.
    license_page_savings = sum(lic["availableLicenses"] * lic["costPerLicense"] / 12 for lic in licenses)
    overview_savings = sum(lic["potentialSavings"] for lic in licenses)
    assert abs(license_page_savings - overview_savings) <= CENT * len(licenses)
    monthly_cost = sum(lic["totalCost"] for lic in licenses) / 12
    assert abs(monthly_cost - sum(lic["monthlyCost"] for lic in licenses)) <= CENT * len(licenses)
    # Believable money: 30 business subscriptions cost thousands a month, not tens of dollars.
    assert monthly_cost > 5_000
    products = {lic["product"]: lic for lic in licenses}
    if "Microsoft 365 E5" in products:
        e5 = products["Microsoft 365 E5"]
        assert e5["totalCost"] / 12 == pytest.approx(e5["totalLicenses"] * 57, abs=0.01)


# --- 2. client status and churn risk follow the dashboard's margin bands ----------------------


@pytest.mark.slow
def test_status_and_churn_risk_follow_the_margin_at_every_tick_of_a_simulated_year() -> None:
    # 5-minute ticks: a year is 105,120 ticks; every client at every one of them (each change is checked,
    # and an unchanged client is the very item checked before). A churn wave runs for a month.
    base = generation(interval=300, **only(clients=20))
    world = dg.World(base.with_scenario(dg.ScenarioRun("churn-wave", start_tick=50_000, end_tick=58_640)))
    snapshot = dg.compute_snapshot(world.generation, 0, world)
    checked = 0
    for _ in range(365 * 288):
        snapshot = dg.advance(snapshot, world)
        for item_id in snapshot.changed["clients"] if snapshot.changed else ():
            item = snapshot.by_id("clients")[item_id]
            assert item["status"] == at_risk(item["marginPercentage"]), item
            assert item["churnRisk"] == churn_risk(item["marginPercentage"]), item
            checked += 1
    assert checked > 365 * 288 * 20 * 0.05


def test_a_normal_day_has_some_clients_at_risk_and_a_churn_wave_lifts_them_visibly() -> None:
    # 400 clients over a year of days: a real MSP book has about one client in eight under 20 % margin.
    calm_world = dg.World(generation(**only(clients=400)))
    wave_world = dg.World(calm_world.generation.with_scenario(dg.ScenarioRun("churn-wave", 0, TICKS_PER_YEAR)))
    calm, stormy, margins = Counter[str](), Counter[str](), Counter[float]()
    days = range(20, 365, 15)
    for day in days:
        for index in range(400):
            item = calm_world.item_at("clients", index, day * 2880).item
            squeezed = wave_world.item_at("clients", index, day * 2880).item
            calm["at risk"] += item["marginPercentage"] < 20
            calm["high"] += item["marginPercentage"] < 15
            stormy["at risk"] += squeezed["marginPercentage"] < 20
            margins[item["marginPercentage"]] += 1
            margins[squeezed["marginPercentage"]] += 1
            assert item["status"] == at_risk(item["marginPercentage"])
            assert squeezed["status"] == at_risk(squeezed["marginPercentage"])
    samples = 400 * len(days)
    assert 0.08 <= calm["at risk"] / samples <= 0.16
    assert 0.01 <= calm["high"] / samples <= 0.06
    assert stormy["at risk"] / samples > calm["at risk"] / samples + 0.2
    # No margin rests on a bound: the lowest value seen is positive and not a floor many clients sit on.
    lowest = min(margins)
    assert lowest > 0
    assert margins[lowest] <= 2


# --- 3. an id names one company for its whole life --------------------------------------------


def names_by_id(world: dg.World, kind: EntityKind, field: str, ticks: range) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = {}
    for tick in ticks:
        for index in range(world.generation.counts[kind]):
            item = world.item_at(kind, index, tick).item
            seen.setdefault(item["id"], set()).add(item[field])
    return seen


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "field", "every"), [("leads", "companyName", 400), ("clients", "name", 5_000)])
def test_no_id_names_two_companies_over_a_year_of_ticks(kind: EntityKind, field: str, every: int) -> None:
    # Sampled more often than the shortest life of an item, so every item is seen at least twice.
    world = dg.World(generation(**only(**{kind: COUNTS[kind]})))
    seen = names_by_id(world, kind, field, range(0, TICKS_PER_YEAR, every))
    assert {item_id: names for item_id, names in seen.items() if len(names) > 1} == {}
    assert len(seen) > COUNTS[kind]  # items were replaced during the year, each under a new id
    names = [name for names in seen.values() for name in names]
    assert len(set(names)) == len(names)  # and no successor took a predecessor's name


def first_replacement(world: dg.World, kind: EntityKind, index: int, step: int) -> int:
    """The first tick at which the item of a slot is a different item than at tick 0 (found by bisection)."""
    first = world.item_at(kind, index, 0).item["id"]
    low, high = 0, step
    while world.item_at(kind, index, high).item["id"] == first:
        low, high = high, high + step
        assert high < 2_000 * step, f"{kind} slot {index} keeps its id {first} forever"
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if world.item_at(kind, index, middle).item["id"] == first else (low, middle)
    return high


@pytest.mark.parametrize("kind", ["clients", "leads"])
def test_a_replaced_item_leaves_and_its_successor_is_announced_under_a_new_id(kind: EntityKind) -> None:
    world = dg.World(generation(**only(**{kind: 5})))
    tick = first_replacement(world, kind, 0, 20_000 if kind == "clients" else 200)
    before = dg.compute_snapshot(world.generation, tick - 1, world)
    after = dg.advance(before, world)
    old, new = before.items[kind][0], after.items[kind][0]
    assert old["id"] != new["id"]
    assert new["id"] not in before.by_id(kind)
    assert old["name" if kind == "clients" else "companyName"] != new["name" if kind == "clients" else "companyName"]
    payload = events.tick_payload(after, before)
    assert new["id"] in payload["changed"][kind]
    assert payload["removed"][kind] == [old["id"]]
    assert new["lastUpdated"] == dg.iso_time(world.generation.time_of(tick))


def test_a_client_sours_before_it_leaves() -> None:
    # Over its last weeks an account's margin falls; most leaving clients are At Risk on their way out.
    world = dg.World(generation(**only(clients=30)))
    fell, risky = 0, 0
    for index in range(30):
        tick = first_replacement(world, "clients", index, 200_000)
        last = world.item_at("clients", index, tick - 1).item
        earlier = world.item_at("clients", index, tick - 200_000).item
        fell += last["marginPercentage"] < earlier["marginPercentage"]
        risky += last["status"] == "At Risk" or last["churnRisk"] != "Low"
    assert fell >= 24
    assert risky >= 15


# --- 4-6. satisfaction, six-month histories, unit symbols -------------------------------------


def month_key(text: str) -> int:
    year, month = text.split("-")
    return int(year) * 12 + int(month) - 1


def test_served_histories_satisfaction_and_units_are_as_the_pages_print_them(client: TestClient) -> None:
    stats = client.get("/api/stats").json()
    this_month = month_key(stats["last_tick_at"][:7])
    last_six = [f"{key // 12:04d}-{key % 12 + 1:02d}" for key in range(this_month - 5, this_month + 1)]
    for dept in client.get("/api/departments").json():
        assert [entry["month"] for entry in dept["historicalSpend"]] == last_six, dept["id"]
    satisfaction = []
    for vendor in client.get("/api/vendors").json():
        assert [entry["month"] for entry in vendor["performanceMetrics"]] == last_six, vendor["id"]
        satisfaction += [record["satisfaction"] for record in vendor["serviceHistory"]]
    assert all(0 <= value <= 100 for value in satisfaction)
    assert sum(satisfaction) / len(satisfaction) > 50  # a percentage, not a score out of five
    units = {}
    for contract in client.get("/api/contracts").json():
        for metric in contract["slaMetrics"]:
            units[metric["metric"]] = metric["unit"]
    assert set(units.values()) <= {"%", "h", "d"}
    assert units.get("Resolution Time", "h") == "h"
    assert units.get("Uptime", "%") == "%"


# --- 7. lastUpdated and the change feed move only with a real change ---------------------------


@pytest.mark.slow
def test_on_one_second_ticks_only_real_changes_move_last_updated_and_the_feed() -> None:
    world = dg.World(generation(interval=1))
    previous = dg.compute_snapshot(world.generation, 5_000, world)
    for _ in range(3_000):
        snapshot = dg.advance(previous, world)
        payload = events.tick_payload(snapshot, previous)
        stamp = dg.iso_time(snapshot.time, milliseconds=False)
        for kind in dg.ENTITY_KINDS:
            before = previous.by_id(kind)
            really_changed = [
                item["id"]
                for item in snapshot.items[kind]
                if item["id"] not in before or without_stamp(before[item["id"]]) != without_stamp(item)
            ]
            assert payload["changed"][kind] == really_changed, kind
            moved = [item["id"] for item in snapshot.items[kind] if item["lastUpdated"] == stamp]
            assert moved == really_changed, kind
        previous = snapshot


@pytest.mark.slow
def test_served_lists_move_last_updated_only_with_another_field(client: TestClient, app: FastAPI) -> None:
    simulator: Simulator = services_of(app).simulator
    tick = simulator.snapshot.tick
    moved_by_stamp = 0
    for back in range(40, 0, -1):
        older = {
            kind: client.get(f"/api/{kind}", params={"at": iso_at(simulator, tick - back - 1)}).json()
            for kind in dg.ENTITY_KINDS
        }
        newer_time = iso_at(simulator, tick - back)
        for kind in dg.ENTITY_KINDS:
            before = {item["id"]: item for item in older[kind]}
            for item in client.get(f"/api/{kind}", params={"at": newer_time}).json():
                if item["lastUpdated"] == newer_time:
                    moved_by_stamp += 1
                    assert item["id"] not in before or without_stamp(before[item["id"]]) != without_stamp(item)
    assert moved_by_stamp > 40  # items do move, tick after tick


def iso_at(simulator: Simulator, tick: int) -> str:
    return dg.iso_time(simulator.generation.time_of(tick))


# --- 8. integers where the original README shows integers --------------------------------------


def test_stats_show_a_whole_interval_as_an_integer_and_a_fraction_as_a_number() -> None:
    with TestClient(create_app(make_settings())) as whole:
        assert type(whole.get("/api/stats").json()["update_interval"]) is int
        assert whole.get("/api/stats").json()["update_interval"] == 30
    with TestClient(create_app(make_settings(update_interval_seconds=0.5))) as fraction:
        assert fraction.get("/api/stats").json()["update_interval"] == 0.5


def test_history_counts_are_integers(client: TestClient) -> None:
    points = client.get("/api/history", params={"step": "5m"}).json()["points"]
    assert points
    for point in points:
        assert type(point["atRiskClients"]) is int
        assert type(point["activeContracts"]) is int


# --- 9. reports: formatted figures, a trend on every row, findings from the live data ---------


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def dollars(amount: float) -> str:
    cents = round(amount * 100)
    return f"${cents // 100:,}.{cents % 100:02d}"


TREND = r"(?:[+−][$]?[0-9][0-9,]*(?:\.[0-9]+)?(?: pts| h)?|no change)"


def test_a_dashboard_body_of_display_strings_and_generic_insights_gets_a_true_formatted_report(
    client: TestClient,
) -> None:
    licenses = client.get("/api/licenses").json()
    monthly_cost = sum(lic["totalCost"] for lic in licenses) / 12
    savings = sum(lic["potentialSavings"] for lic in licenses)
    seats = sum(lic["totalLicenses"] for lic in licenses)
    body = {
        "pageTitle": "Software License Management",
        "pageType": "software-license",
        "data": {"licenses": licenses},
        "metrics": [
            {"label": "Total Monthly Cost", "value": f"${monthly_cost:,.3f}"},
            {"label": "Potential Savings", "value": f"${savings:,.3f}"},
            {"label": "Total Licenses", "value": f"{seats:,}"},
            {"label": "Compliance Issues", "value": "3"},
        ],
        "insights": {
            "summary": "Software license overview.",
            "keyFindings": ["License usage should be reviewed regularly."],
            "recommendations": ["Optimize license allocation."],
        },
    }
    response = client.post("/api/generate-report", json=body)
    assert response.status_code == 200, response.text
    text = pdf_text(response.content)
    # The live data the report names: the lists at its tick, over HTTP.
    served_at = re.search(r"Data as of .*? \(simulation tick (\d+)\)", text)
    assert served_at is not None
    tick = int(served_at.group(1))
    at = dg.iso_time(dg.new_generation(counts=COUNTS, interval=30, now=NOW, seed=SEED).time_of(tick))
    live = client.get("/api/licenses", params={"at": at}).json()
    live_savings = sum(lic["potentialSavings"] for lic in live)
    # The page's figures, formatted (never "$9,531.617"), each with a trend.
    assert re.search(r"\$[0-9,]+\.[0-9]{3}", text) is None
    for label, shown in (
        ("Total Monthly Cost", dollars(monthly_cost)),
        ("Potential Savings", dollars(savings)),
        ("Total Licenses", f"{seats:,}"),
    ):
        assert re.search(re.escape(f"{label} {shown}") + r"(?: \(live: [^)]*\))? " + TREND, text), label
    assert re.search(r"Compliance Issues 3(?: \(live: [0-9,]+\))? " + TREND, text)
    # The page's text word for word, then the report's own findings, with the live numbers.
    for sentence in ("Software license overview.", "License usage should be reviewed regularly."):
        assert sentence in text
    findings = text[text.index("Key findings") : text.index("Risks")]
    assert findings.index("License usage should be reviewed regularly.") < findings.index(
        f"Unused seats cost {dollars(live_savings)} a month"
    )
    assert f"{len(live)} licenses cost {dollars(sum(lic['monthlyCost'] for lic in live))} a month" in text
    assert "Optimize license allocation." in text


def test_a_page_figure_that_contradicts_the_live_data_is_shown_beside_it(client: TestClient) -> None:
    body = {
        "pageType": "client-profitability",
        "metrics": [{"label": "Total MRR", "value": "$245,000"}, {"label": "Seat Utilisation", "value": "12%"}],
    }
    response = client.post("/api/generate-report", json=body)
    assert response.status_code == 200, response.text
    text = pdf_text(response.content)
    served_at = re.search(r"\(simulation tick (\d+)\)", text)
    assert served_at is not None
    at = dg.iso_time(dg.new_generation(counts=COUNTS, interval=30, now=NOW, seed=SEED).time_of(int(served_at.group(1))))
    mrr = sum(c["monthlyRecurring"] for c in client.get("/api/clients", params={"at": at}).json())
    # "MRR" is the dashboard's word for monthly recurring revenue: the live figure and its trend follow.
    assert re.search(re.escape(f"Total MRR $245,000.00 (live: {dollars(mrr)}) ") + TREND, text)
    # A figure no page of this report measures keeps its text and says so.
    assert "Seat Utilisation 12.0% not measured" in text
