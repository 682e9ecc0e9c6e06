"""Stateful property test: any sequence of ticks, jumps in time, scenarios and regenerates keeps the world sound."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import data_generator as dg

COUNTS = {"clients": 6, "licenses": 6, "leads": 6, "technicians": 5, "departments": 4, "vendors": 4, "contracts": 6}
START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _close(a: float, b: float, tolerance: float = 0.011) -> bool:
    return abs(a - b) <= tolerance


def check_relations(snapshot: dg.Snapshot) -> None:
    """The relations of DESIGN.md's entity table that tie fields together."""
    today = snapshot.time.date()
    for kind, item in dg.iter_items(snapshot):
        for value in item.values():
            assert not (isinstance(value, float) and not math.isfinite(value)), (kind, item["id"])
    for c in snapshot.items["clients"]:
        assert c["monthlyRecurring"] == c["monthlyRevenue"]
        assert _close(c["monthlyRevenue"] * 12, c["annualRevenue"])
        assert _close(c["monthlyCosts"] * 12, c["annualCosts"])
        margin = (c["annualRevenue"] - c["annualCosts"]) / c["annualRevenue"] * 100
        assert _close(margin, c["marginPercentage"], 0.011)
        risk = "Low" if c["marginPercentage"] >= 30 else "Medium" if c["marginPercentage"] >= 15 else "High"
        assert c["churnRisk"] == risk
        assert (c["status"] == "Active") == (risk != "High")
    for lic in snapshot.items["licenses"]:
        assert lic["availableLicenses"] == lic["totalLicenses"] - lic["usedLicenses"] >= 0
        assert _close(lic["totalCost"], lic["totalLicenses"] * lic["costPerLicense"])
        assert lic["monthlyCost"] == lic["totalCost"]
        assert _close(lic["potentialSavings"], lic["availableLicenses"] * lic["costPerLicense"])
        assert date.fromisoformat(lic["renewalDate"]) > today
    for lead in snapshot.items["leads"]:
        assert date.fromisoformat(lead["lastContact"]) <= today
        assert lead["email"].endswith("@" + lead["email"].split("@")[1])
        if lead["stage"] == "Closed Won":
            assert lead["probability"] == 100
        if lead["stage"] == "Closed Lost":
            assert lead["probability"] == 0
    for tech in snapshot.items["technicians"]:
        assert 0 <= tech["billableHours"] <= tech["totalHours"]
        assert tech["utilization"] == tech["utilizationRate"]
    names = [d["name"] for d in snapshot.items["departments"]]
    assert len(names) == len(set(names))
    for dept in snapshot.items["departments"]:
        assert _close(dept["remaining"], dept["budget"] - dept["spent"])
        assert _close(sum(c["spend"] for c in dept["categories"]), dept["actualSpend"], 0.001)
        assert _close(dept["variance"], dept["monthlyBudget"] - dept["actualSpend"])
        assert len(dept["historicalSpend"]) == 12
    vendor_names = {v["id"]: v["name"] for v in snapshot.items["vendors"]}
    for vendor in snapshot.items["vendors"]:
        end = date.fromisoformat(vendor["contractEnd"])
        assert date.fromisoformat(vendor["contractStart"]) < end
        assert vendor["renewalDate"] == vendor["contractEnd"]
        assert vendor["performanceScore"] == vendor["performanceMetrics"][-1]["score"]
        expected = "expired" if end <= today else "expiring-soon" if (end - today).days <= 90 else None
        assert expected is None or vendor["status"] == expected
    for contract in snapshot.items["contracts"]:
        assert vendor_names[contract["vendorId"]] == contract["vendorName"]
        end = date.fromisoformat(contract["endDate"])
        assert date.fromisoformat(contract["startDate"]) < end
        status = "Expired" if end <= today else "Expiring Soon" if (end - today).days <= 90 else "Active"
        assert contract["status"] == status
        if contract["autoRenew"]:
            assert contract["renewalStatus"] == "auto-renew"


class WorldMachine(RuleBasedStateMachine):
    """Drives one generation as the service would, and checks it against direct computation."""

    def __init__(self) -> None:
        super().__init__()
        self.generation = dg.new_generation(counts=COUNTS, interval=30, now=START, seed=1)
        self.snapshot = dg.compute_snapshot(self.generation, self.generation.tick_at(START))

    @rule(steps=st.integers(min_value=1, max_value=12))
    def tick(self, steps: int) -> None:
        world = dg.World(self.snapshot.generation)
        for _ in range(steps):
            self.snapshot = dg.advance(self.snapshot, world)

    @rule(ticks=st.integers(min_value=-20_000, max_value=1_200_000))
    def jump(self, ticks: int) -> None:
        self.snapshot = dg.compute_snapshot(self.snapshot.generation, self.snapshot.tick + ticks)

    @rule(seed=st.integers(min_value=0, max_value=2**63 - 1), days=st.integers(min_value=0, max_value=400))
    def regenerate(self, seed: int, days: int) -> None:
        now = START + timedelta(days=days)
        self.generation = dg.new_generation(counts=COUNTS, interval=30, now=now, seed=seed, epoch=now)
        self.snapshot = dg.compute_snapshot(self.generation, 0)

    @rule(name=st.sampled_from(sorted(dg.SCENARIOS)), duration=st.integers(min_value=1, max_value=200))
    def scenario(self, name: str, duration: int) -> None:
        tick = self.snapshot.tick
        run = dg.ScenarioRun(name, tick + 1, tick + 1 + duration, target=tick % COUNTS["vendors"])
        generation = self.snapshot.generation.with_scenario(run)
        s = self.snapshot
        self.snapshot = dg.Snapshot(generation, s.tick, s.items, s.next_changes, s.changed)

    @invariant()
    def relations_hold(self) -> None:
        check_relations(self.snapshot)

    @invariant()
    def random_access_agrees(self) -> None:
        direct = dg.compute_snapshot(self.snapshot.generation, self.snapshot.tick)
        assert direct.items == self.snapshot.items


WorldMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
TestWorld = WorldMachine.TestCase
