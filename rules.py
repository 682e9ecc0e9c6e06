"""Business rules the dashboard computes with: thresholds and the words that follow from them.

Defined once here and imported by the simulation, the KPIs, the reports and the models'
descriptions, so the service's `status` and `churnRisk` always agree with what the dashboard
derives from `marginPercentage` itself.
"""

from __future__ import annotations

from typing import Literal

ClientStatus = Literal["Active", "At Risk"]
ChurnRisk = Literal["Low", "Medium", "High"]

# A client is At Risk exactly when its margin is under this percentage.
AT_RISK_MARGIN = 20.0
# Churn risk is High under the first margin, Medium under the second, Low from it.
HIGH_CHURN_MARGIN = 15.0
MEDIUM_CHURN_MARGIN = 25.0


def client_status(margin_percentage: float) -> ClientStatus:
    """At Risk under the at-risk margin, Active otherwise."""
    return "At Risk" if margin_percentage < AT_RISK_MARGIN else "Active"


def churn_risk(margin_percentage: float) -> ChurnRisk:
    """High, Medium or Low by the dashboard's margin bands."""
    if margin_percentage < HIGH_CHURN_MARGIN:
        return "High"
    return "Medium" if margin_percentage < MEDIUM_CHURN_MARGIN else "Low"
