"""Mutation testing of the KPI, report-measure and query code with mutmut: how many wrong numbers the tests catch.

Not a test and not run in CI (it takes minutes). Install the pinned tool, then run from the repository root:

    .venv/bin/pip install -r requirements-mutation.txt
    .venv/bin/python -m benchmarks.mutation            # --fresh forgets earlier results; --show prints survivors

mutmut copies the app into `mutants/`, mutates kpis.py, queries.py and the report pages and text helpers there
(settings in pyproject.toml's [tool.mutmut], with the quick oracle tests as the test selection), and this script
runs the mutants of kpis.py, queries.py and of the report pages' measure functions only (their charts, drawing
and layout code would take hours and are checked by the report tests instead), then prints killed and survived.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_KILLED = 90.0

# The report pages' own measures (prism/reporting/pages/*.py; the KPI arithmetic they share is kpis.py, mutated
# whole) and the small helpers of prism/reporting/text.py they are made of. The chart functions are left out: most
# of their ~1,000 mutants change colours and layout, which no number shows (their data is checked by
# tests/api/test_report_oracles.py all the same).
REPORT_FUNCTIONS = (
    "share_pct",
    "mean",
    "is_within",
    "month_label",
    "next_months",
    "by_month",
    "totals_by",
    "annual_gross_profit",
    "top_fifth_revenue_share",
    "monthly_license_cost",
    "unused_seats",
    "wasted_license_spend",
    "over_allocated_licenses",
    "license_renewals",
    "win_rate",
    "average_deal_size",
    "closing_soon",
    "billable_hours",
    "billable_revenue",
    "year_elapsed",
    "annual_budget",
    "spent_year_to_date",
    "spend_pace",
    "month_variance",
    "over_monthly_budget",
    "top_vendor_share",
    "expiring_contracts",
    "average_sla_compliance",
)
# Survivors judged equivalent (same figures for every input the service sees), by mutmut's name at the time of
# judging; a change to the mutated function renumbers its mutants, so look at `mutmut show NAME` again then.
_MEMO = "only switches compute_kpis' memo on the snapshot off; the figures are the same"
_CENTS = "rounds a sum of whole-cent amounts to 3 decimals instead of 2: such a sum has no third decimal"
_UNION = "a union is never one of str, int, float, bool, so the last line returns None for it anyway"
EQUIVALENT = {
    **{f"kpis.x_compute_kpis__mutmut_{n}": _MEMO for n in (1, 2, 3, 4, 86, 87, 88)},
    **{f"kpis.x_compute_kpis__mutmut_{n}": _CENTS for n in (16, 46, 73, 82)},
    **{f"queries.x__scalar_type__mutmut_{n}": _UNION for n in (3, 4)},
    "prism.reporting.text.x_month_label__mutmut_12": "day 2 instead of day 1 of the month: the same month name",
}
MUTANT_PATTERNS = ("kpis.*", "queries.*", *(f"prism.reporting.*.x_{name}__mutmut_*" for name in REPORT_FUNCTIONS))
RESULT_LINE = re.compile(r"^\s+(\S+): (.+)$")


def mutmut(*arguments: str, capture: bool = False) -> str:
    """Run a mutmut command in the repository root (the console script next to this interpreter, or on PATH)."""
    script = Path(sys.executable).with_name("mutmut")
    command = [str(script) if script.exists() else shutil.which("mutmut") or "mutmut", *arguments]
    done = subprocess.run(command, cwd=ROOT, check=not capture, text=True, capture_output=capture)
    return done.stdout if capture else ""


def selected(name: str) -> bool:
    """Whether a mutant belongs to the code this benchmark is about."""
    module, _, function = name.rpartition(".")
    if module in ("kpis", "queries"):
        return True
    return module.startswith("prism.reporting.") and any(
        function.startswith(f"x_{wanted}__mutmut_") for wanted in REPORT_FUNCTIONS
    )


def results() -> dict[str, str]:
    """Status of every selected mutant: killed, survived, timeout, no tests, ..."""
    statuses = {}
    for line in mutmut("results", "--all", "true", capture=True).splitlines():
        match = RESULT_LINE.match(line)
        if match and selected(match.group(1)):
            statuses[match.group(1)] = match.group(2).strip()
    return statuses


def unlisted_modules() -> list[str]:
    """The app's modules missing from [tool.mutmut] source_paths (the mutated copy could not import them)."""
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]["source_paths"]
    return sorted(path.name for path in [*ROOT.glob("*.py"), ROOT / "prism"] if path.name not in listed)


def main() -> int:
    """Run the mutants, print the figures, and fail when fewer than the target share are killed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fresh", action="store_true", help="delete mutants/ (earlier results) first")
    parser.add_argument("--show", action="store_true", help="print the diff of every surviving mutant")
    parser.add_argument("--max-children", type=int, default=None, help="mutants run at once (default: CPUs)")
    options = parser.parse_args()
    missing = unlisted_modules()
    if missing:
        print(f"add {', '.join(missing)} to source_paths in pyproject.toml's [tool.mutmut]", file=sys.stderr)
        return 2
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
    by_module = Counter(name.rpartition(".")[0] for name, status in statuses.items() if status != "killed")
    if by_module:
        print("not killed, by module: " + ", ".join(f"{module} {number}" for module, number in by_module.items()))
    share = killed / total * 100 if total else 0.0
    print(f"killed: {killed}/{total} = {share:.1f}% (target {TARGET_KILLED:.0f}%)")
    equivalent = sum(1 for name, status in statuses.items() if status == "survived" and name in EQUIVALENT)
    if total > equivalent:
        print(f"killed of the mutants not judged equivalent: {killed}/{total - equivalent}")
    for name, status in sorted(statuses.items()):
        if status != "killed":
            reason = f" (judged equivalent: {EQUIVALENT[name]})" if name in EQUIVALENT else ""
            print(f"  {status}: {name}{reason}")
            if options.show:
                print(mutmut("show", name, capture=True))
    return 0 if share >= TARGET_KILLED else 1


if __name__ == "__main__":
    sys.exit(main())
