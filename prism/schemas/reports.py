"""What `POST /api/generate-report` takes: the page type and what the dashboard page sends along."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PageType = Literal[
    "client-profitability",
    "software-license",
    "sales-pipeline",
    "resource-allocation",
    "departmental-spend",
    "vendor-management",
]

Label = Annotated[str, Field(max_length=200)]
Passage = Annotated[str, Field(max_length=4000)]
MetricValue = (
    Annotated[str, Field(max_length=200)]
    | Annotated[int, Field(strict=True)]
    | Annotated[float, Field(strict=True, allow_inf_nan=False)]
)
MAX_REPORT_ITEMS = 40


class ReportMetric(BaseModel):
    """A key figure as the dashboard shows it; printed as sent."""

    label: Label = Field(examples=["Total MRR"])
    value: MetricValue = Field(description="The figure, as text or as a number.", examples=["$245,000"])
    trend: Label | None = Field(None, description="Its trend, printed in the change column.", examples=["+3.2%"])


class ReportChart(BaseModel):
    """A chart of the dashboard page (accepted; the report draws its charts from the live data)."""

    title: Label = ""
    type: Label = ""
    data: Any = None


class ReportRisk(BaseModel):
    """A risk with its level and what to do about it."""

    level: Annotated[str, Field(max_length=40)] = Field(examples=["high"])
    description: Passage
    recommendation: Passage = ""


class ReportInsights(BaseModel):
    """Written insights; any part left out (or empty) is computed from the live data."""

    summary: Annotated[str, Field(max_length=10_000)] | None = None
    keyFindings: list[Passage] | None = Field(None, max_length=MAX_REPORT_ITEMS)
    risks: list[ReportRisk] | None = Field(None, max_length=MAX_REPORT_ITEMS)
    opportunities: list[Passage] | None = Field(None, max_length=MAX_REPORT_ITEMS)
    recommendations: list[Passage] | None = Field(None, max_length=MAX_REPORT_ITEMS)
    nextActions: list[Passage] | None = Field(None, max_length=MAX_REPORT_ITEMS)


class ReportRequest(BaseModel):
    """Body of `POST /api/generate-report`: the original short form or the dashboard's form; all optional."""

    pageType: PageType = Field("client-profitability", description="Which dashboard the report is about.")
    pageTitle: Label | None = Field(None, description="Title of the report; a default per page type when omitted.")
    summary: Annotated[str, Field(max_length=10_000)] | None = Field(
        None, description="Executive summary (short form); `insights.summary` wins when both are sent."
    )
    data: Any = Field(None, description="The dashboard's page data (accepted; the report reads the live data).")
    metrics: list[ReportMetric] | None = Field(None, max_length=MAX_REPORT_ITEMS)
    charts: list[ReportChart] | None = Field(None, max_length=MAX_REPORT_ITEMS)
    insights: ReportInsights | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "pageType": "client-profitability",
                    "summary": "Custom summary text",
                    "insights": {"keyFindings": ["Finding 1", "Finding 2"], "recommendations": ["Rec 1", "Rec 2"]},
                }
            ]
        }
    )
