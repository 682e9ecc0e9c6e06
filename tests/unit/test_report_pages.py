"""The skeleton the six report pages fill in (prism/reporting/pages/base.py)."""

from __future__ import annotations

import pytest

import report_generator as rg
from prism.reporting.model import Risk
from prism.reporting.pages.base import Narrative, RiskRules, Sentences, ranked_risks, summary_text
from simulator import Simulator
from tests.support import make_settings


class Example(Narrative):
    """A page that says a little, with one sentence whose condition is not met."""

    follow_up = "Tomorrow: re-run this report."

    def summary(self) -> Sentences:
        return ("Two things happened.", "")

    def key_findings(self) -> Sentences:
        return ("", "The first finding.")

    def risks(self) -> RiskRules:
        return (
            ("Low", "A small risk.", "Watch it."),
            (None, "A risk this snapshot does not reach.", "Nothing."),
            ("High", "A large risk (of two).", "Act now."),
        )

    def next_actions(self) -> Sentences:
        return ("This week: look.", "")


def test_sections_drop_empty_texts_rank_risks_and_end_with_the_follow_up() -> None:
    insights = Example.write(Simulator(make_settings()).snapshot)
    assert insights.key_findings == ("The first finding.",)
    assert [risk.level for risk in insights.risks] == ["High", "Low"]
    assert insights.summary == "Two things happened. Top risk (high): A large risk (of two)."
    assert insights.opportunities == ()
    assert insights.recommendations == ()
    assert insights.next_actions == ("This week: look.", "Tomorrow: re-run this report.")


def test_no_risk_reached_is_a_clean_bill_of_health_the_summary_does_not_repeat() -> None:
    risks = ranked_risks([(None, "Unreached.", "Nothing.")])
    assert [risk.level for risk in risks] == ["Low"]
    assert summary_text(["All is well."], risks) == "All is well."


def test_the_top_risk_is_not_told_twice() -> None:
    risks = (Risk("Medium", "Spend is rising (in two departments).", "Ask why."),)
    assert summary_text(["Spend is rising in two departments."], risks) == "Spend is rising in two departments."


@pytest.mark.parametrize("page_type", rg.PAGE_TYPES)
def test_every_page_ends_its_next_actions_with_its_follow_up(page_type: rg.PageType) -> None:
    insights = rg.PAGES[page_type].insights(Simulator(make_settings()).snapshot)
    assert "re-run this report" in insights.next_actions[-1]
    assert all(insights.next_actions)
