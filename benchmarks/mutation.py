"""Mutation testing of the KPI, report-measure and query code with mutmut: how many wrong numbers the tests catch.

Not a test and not run in CI (it takes minutes). Install the pinned tool, then run from the repository root:

    .venv/bin/pip install -r requirements-mutation.txt
    .venv/bin/python benchmarks/mutation.py            # --fresh forgets earlier results; --show prints survivors

mutmut copies the app into `mutants/`, mutates kpis.py, queries.py and report_generator.py there (settings in
pyproject.toml's [tool.mutmut], with the quick oracle tests as the test selection), and this script runs the
mutants of kpis.py, queries.py and of report_generator's measure functions only (its charts, drawing and layout
code would take hours and are checked by the report tests instead), then prints killed and survived.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_KILLED = 90.0

# report_generator's measures: the functions behind each page's key metrics and the small helpers they are made
# of. The chart functions are left out: most of their ~1,000 mutants change colours and layout, which no number
# shows (their data is checked by tests/test_report_oracles.py all the same).
REPORT_FUNCTIONS = (
    "_share",
    "_mean",
    "_within",
    "_month_label",
    "_next_months",
    "_by_month",
    "_totals_by",
    "monthly_recurring_revenue",
    "average_margin",
    "annual_gross_profit",
    "at_risk_clients",
    "top_fifth_revenue_share",
    "monthly_license_cost",
    "seat_utilisation",
    "unused_seats",
    "wasted_license_spend",
    "over_allocated_licenses",
    "license_renewals",
    "open_leads",
    "open_pipeline_value",
    "weighted_pipeline",
    "win_rate",
    "average_deal_size",
    "closing_soon",
    "team_utilisation",
    "billable_hours",
    "billable_revenue",
    "year_elapsed",
    "annual_budget",
    "spent_year_to_date",
    "spend_pace",
    "month_spend",
    "month_variance",
    "over_monthly_budget",
    "vendor_spend",
    "top_vendor_share",
    "active_contracts",
    "expiring_contracts",
    "average_sla_compliance",
)
MUTANT_PATTERNS = ("kpis.*", "queries.*", *(f"report_generator.x_{name}__mutmut_*" for name in REPORT_FUNCTIONS))
RESULT_LINE = re.compile(r"^\s+(\S+): (.+)$")


def mutmut(*arguments: str, capture: bool = False) -> str:
    """Run a mutmut command in the repository root (the console script next to this interpreter, or on PATH)."""
    script = Path(sys.executable).with_name("mutmut")
    command = [str(script) if script.exists() else shutil.which("mutmut") or "mutmut", *arguments]
    done = subprocess.run(command, cwd=ROOT, check=not capture, text=True, capture_output=capture)
    return done.stdout if capture else ""


def selected(name: str) -> bool:
    """Whether a mutant belongs to the code this benchmark is about."""
    module, _, function = name.partition(".")
    if module in ("kpis", "queries"):
        return True
    return any(function.startswith(f"x_{wanted}__mutmut_") for wanted in REPORT_FUNCTIONS)


def results() -> dict[str, str]:
    """Status of every selected mutant: killed, survived, timeout, no tests, ..."""
    statuses = {}
    for line in mutmut("results", "--all", "true", capture=True).splitlines():
        match = RESULT_LINE.match(line)
        if match and selected(match.group(1)):
            statuses[match.group(1)] = match.group(2).strip()
    return statuses


def main() -> int:
    """Run the mutants, print the figures, and fail when fewer than the target share are killed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fresh", action="store_true", help="delete mutants/ (earlier results) first")
    parser.add_argument("--show", action="store_true", help="print the diff of every surviving mutant")
    parser.add_argument("--max-children", type=int, default=None, help="mutants run at once (default: CPUs)")
    options = parser.parse_args()
    if options.fresh:
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    extra = ["--max-children", str(options.max_children)] if options.max_children else []
    mutmut("run", *extra, *MUTANT_PATTERNS)

    statuses = results()
    counts = Counter(statuses.values())
    total = len(statuses)
    killed = counts["killed"] + counts["caught by type check"]
    print()
    print(f"mutants: {total}")
    for status, number in counts.most_common():
        print(f"  {status}: {number}")
    by_module = Counter(name.partition(".")[0] for name, status in statuses.items() if status != "killed")
    if by_module:
        print("not killed, by module: " + ", ".join(f"{module} {number}" for module, number in by_module.items()))
    share = killed / total * 100 if total else 0.0
    print(f"killed: {killed}/{total} = {share:.1f}% (target {TARGET_KILLED:.0f}%)")
    for name, status in sorted(statuses.items()):
        if status != "killed":
            print(f"  {status}: {name}")
            if options.show:
                print(mutmut("show", name, capture=True))
    return 0 if share >= TARGET_KILLED else 1


if __name__ == "__main__":
    sys.exit(main())
