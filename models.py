"""Pydantic models of the API: the seven entities and the service's own responses."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from rules import (
    AT_RISK_MARGIN,
    HIGH_CHURN_MARGIN,
    MEDIUM_CHURN_MARGIN,
    ChurnRisk,
    ClientStatus,
    LeadStage,
    ScenarioName,
)

ContractType = Literal["Standard", "Premium", "Enterprise"]

LicenseType = Literal["User", "Device", "Concurrent"]
ComplianceStatus = Literal["Compliant", "At Risk", "Over-allocated"]
TechnicianStatus = Literal["Available", "Busy", "On Leave"]
SkillLevel = Literal["Junior", "Mid", "Senior", "Expert"]
SpendTrend = Literal["up", "down", "stable"]
VendorStatus = Literal["active", "expiring-soon", "expired", "under-review"]
ContractStatus = Literal["Active", "Expiring Soon", "Expired"]
RenewalStatus = Literal["auto-renew", "manual", "expiring"]
SlaUnit = Literal["%", "h", "d"]

Money = float
TIMESTAMP = "ISO 8601 UTC time of the last tick that changed this item"


class Entity(BaseModel):
    """Base of the seven entities: camelCase fields, every one always present."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Client(Entity):
    """A managed-service client and the profitability of its account."""

    id: str = Field(
        description="`client-N`; names one client for its whole life (a client that churns leaves the list and "
        "the client signed in its place gets a new id).",
        examples=["client-1"],
    )
    name: str = Field(description="Company name.", examples=["TechFlow Solutions"])
    industry: str = Field(description="Industry the client works in.", examples=["Technology"])
    employeeCount: int = Field(ge=1, description="Employees at the client (seats the MSP supports).")
    annualRevenue: Money = Field(ge=0, description="Revenue the MSP earns from the client per year, USD.")
    annualCosts: Money = Field(ge=0, description="Cost to the MSP of serving the client per year, USD.")
    contractValue: Money = Field(ge=0, description="Annual value of the client's contract, USD.")
    contractType: ContractType = Field(description="Service tier.")
    status: ClientStatus = Field(
        description=f"Account health: At Risk exactly when marginPercentage < {AT_RISK_MARGIN:g}, else Active."
    )
    monthlyRecurring: Money = Field(ge=0, description="Monthly recurring revenue, USD (= annualRevenue / 12).")
    churnRisk: ChurnRisk = Field(
        description=f"Risk of losing the client: High when marginPercentage < {HIGH_CHURN_MARGIN:g}, "
        f"Medium when < {MEDIUM_CHURN_MARGIN:g}, Low from {MEDIUM_CHURN_MARGIN:g}."
    )
    lastUpdated: str = Field(description=TIMESTAMP, examples=["2025-01-15T10:30:00Z"])
    marginPercentage: float = Field(description="(annualRevenue - annualCosts) / annualRevenue x 100.")
    monthlyRevenue: Money = Field(ge=0, description="annualRevenue / 12, USD.")
    monthlyCosts: Money = Field(ge=0, description="annualCosts / 12, USD.")
    contractEndDate: str = Field(description="End of the current contract term, `YYYY-MM-DD`.")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": "client-1",
                "name": "TechFlow Solutions",
                "industry": "Technology",
                "employeeCount": 150,
                "annualRevenue": 180000.0,
                "annualCosts": 104400.0,
                "contractValue": 180000.0,
                "contractType": "Premium",
                "status": "Active",
                "monthlyRecurring": 15000.0,
                "churnRisk": "Low",
                "lastUpdated": "2025-01-15T10:30:00Z",
                "marginPercentage": 42.0,
                "monthlyRevenue": 15000.0,
                "monthlyCosts": 8700.0,
                "contractEndDate": "2025-12-31",
            }
        }
    )


class License(Entity):
    """A software subscription the MSP manages, with its seat usage and cost."""

    id: str = Field(description="Stable id, `license-N`.", examples=["license-1"])
    vendor: str = Field(description="Software publisher.", examples=["Microsoft"])
    product: str = Field(description="Product and plan.", examples=["Microsoft 365 Business Premium"])
    licenseType: LicenseType = Field(description="What one seat covers: a user, a device or a concurrent session.")
    totalLicenses: int = Field(ge=0, description="Seats purchased.")
    usedLicenses: int = Field(ge=0, description="Seats assigned.")
    availableLicenses: int = Field(ge=0, description="Seats unassigned (= total - used).")
    costPerLicense: Money = Field(ge=0, description="List price of one seat per year, USD.", examples=[684.0])
    totalCost: Money = Field(
        ge=0, description="Yearly cost of all seats, USD (= annualCost = totalLicenses x costPerLicense)."
    )
    renewalDate: str = Field(description="Next renewal, `YYYY-MM-DD`.")
    complianceStatus: ComplianceStatus = Field(
        description="Over-allocated when every seat is taken, At Risk at 90% or more, else Compliant."
    )
    utilizationRate: float = Field(ge=0, le=100, description="usedLicenses / totalLicenses x 100.")
    lastUpdated: str = Field(description=TIMESTAMP)
    monthlyCost: Money = Field(ge=0, description="Monthly cost of all seats, USD (= totalCost / 12).")
    annualCost: Money = Field(ge=0, description="Yearly cost of all seats, USD (= totalCost).")
    potentialSavings: Money = Field(
        ge=0, description="Monthly cost of the unused seats, USD (= availableLicenses x costPerLicense / 12)."
    )


class Lead(Entity):
    """A sales opportunity in the pipeline."""

    id: str = Field(
        description="`lead-N`; names one company's lead for its whole life (a closed lead later leaves the list "
        "and a fresh lead takes its place under a new id)."
    )
    companyName: str = Field(description="Prospect company.", examples=["Acme Corp"])
    contactName: str = Field(description="Person the MSP talks to.")
    email: str = Field(description="Contact's email, on the company's domain.")
    phone: str = Field(description="Contact's phone number.", examples=["+1-555-0123"])
    stage: LeadStage = Field(description="Pipeline stage.")
    value: Money = Field(ge=0, description="Expected annual contract value, USD.")
    probability: int = Field(ge=0, le=100, description="Chance of winning, %; fits the stage.")
    expectedCloseDate: str = Field(description="Expected close, `YYYY-MM-DD`.")
    source: str = Field(description="Where the lead came from.", examples=["Referral"])
    industry: str = Field(description="Prospect's industry.")
    employeeCount: int = Field(ge=1, description="Prospect's employees.")
    lastContact: str = Field(description="Date of the last contact, `YYYY-MM-DD`, never in the future.")
    lastUpdated: str = Field(description=TIMESTAMP)


class Technician(Entity):
    """A member of the MSP's technical staff and how their time is used this month."""

    id: str = Field(description="Stable id, `tech-N`.", examples=["tech-1"])
    name: str = Field(description="Full name.")
    role: str = Field(description="Job role.", examples=["Network Engineer"])
    hourlyRate: Money = Field(gt=0, description="Billing rate, USD per hour; fits role and skill level.")
    utilization: float = Field(ge=0, le=100, description="billableHours / totalHours x 100.")
    billableHours: float = Field(ge=0, description="Hours billed to clients this month.")
    totalHours: float = Field(ge=0, description="Hours worked this month.")
    efficiency: float = Field(ge=0, le=100, description="Tickets resolved within estimate, %.")
    certifications: list[str] = Field(description="Professional certifications held.")
    status: TechnicianStatus = Field(description="Availability right now.")
    lastUpdated: str = Field(description=TIMESTAMP)
    utilizationRate: float = Field(ge=0, le=100, description="Same as utilization.")
    skillLevel: SkillLevel = Field(description="Seniority; fits the role.")
    activeProjects: int = Field(ge=0, description="Projects assigned now.")


class CategorySpend(BaseModel):
    """Spend of one expense category this month."""

    name: str = Field(description="Expense category.")
    spend: Money = Field(ge=0, description="Spend this month, USD.")


class MonthlySpend(BaseModel):
    """Spend of one past month."""

    month: str = Field(description="`YYYY-MM`.")
    amount: Money = Field(ge=0, description="Spend that month, USD.")


class Department(Entity):
    """An internal department of the MSP and its spending against budget."""

    id: str = Field(description="Stable id, `dept-N`.", examples=["dept-1"])
    name: str = Field(description="Department name, unique.", examples=["IT Operations"])
    budget: Money = Field(ge=0, description="Annual budget, USD.")
    spent: Money = Field(ge=0, description="Spent this fiscal (calendar) year to date, USD.")
    remaining: Money = Field(description="budget - spent, USD (negative when over budget).")
    employeeCount: int = Field(ge=1, description="Employees in the department.")
    avgCostPerEmployee: Money = Field(ge=0, description="spent / employeeCount, USD.")
    topExpenseCategory: str = Field(description="Largest category this month.")
    lastUpdated: str = Field(description=TIMESTAMP)
    monthlyBudget: Money = Field(ge=0, description="budget / 12, USD.")
    actualSpend: Money = Field(ge=0, description="Spend this month (projected to month end), USD.")
    variance: Money = Field(description="monthlyBudget - actualSpend, USD; negative when over budget.")
    variancePercentage: float = Field(description="variance / monthlyBudget x 100.")
    trend: SpendTrend = Field(description="This month's spend against last month's (5% band is stable).")
    manager: str = Field(description="Department head.")
    categories: list[CategorySpend] = Field(description="This month's spend by category; sums to actualSpend.")
    historicalSpend: list[MonthlySpend] = Field(
        description="Spend of each of the last 6 months, oldest first, ending with this month (projected)."
    )


class MonthlyScore(BaseModel):
    """A vendor's performance score in one month."""

    month: str = Field(description="`YYYY-MM`.")
    score: float = Field(ge=0, le=100, description="Performance score, 0-100.")


class ServiceRecord(BaseModel):
    """One service the vendor delivered, and how satisfied the MSP was."""

    date: str = Field(description="`YYYY-MM-DD`.")
    service: str = Field(description="What was delivered.")
    satisfaction: float = Field(ge=0, le=100, description="Satisfaction with the service, % (0-100).", examples=[92.5])


class Vendor(Entity):
    """A supplier of the MSP and the state of its master agreement."""

    id: str = Field(description="Stable id, `vendor-N`.", examples=["vendor-1"])
    name: str = Field(description="Vendor name.", examples=["Dell Technologies"])
    category: str = Field(description="What the vendor supplies.", examples=["Hardware"])
    totalSpend: Money = Field(ge=0, description="Spent with the vendor in the last 12 months, USD.")
    contractValue: Money = Field(ge=0, description="Value of the whole master agreement, USD.")
    contractStart: str = Field(description="Start of the agreement, `YYYY-MM-DD`.")
    contractEnd: str = Field(description="End of the agreement, `YYYY-MM-DD`.")
    paymentTerms: str = Field(description="Payment terms.", examples=["Net 30"])
    status: VendorStatus = Field(
        description="expired after contractEnd, expiring-soon within 90 days of it, "
        "under-review when performance is below 65, else active."
    )
    performanceScore: float = Field(ge=0, le=100, description="This month's performance score.")
    lastUpdated: str = Field(description=TIMESTAMP)
    annualValue: Money = Field(ge=0, description="Agreement value per year, USD.")
    contractType: str = Field(description="Kind of agreement.", examples=["Master Services Agreement"])
    renewalDate: str = Field(description="Equal to contractEnd.")
    contactPerson: str = Field(description="Account manager at the vendor.")
    email: str = Field(description="Account manager's email.")
    phone: str = Field(description="Account manager's phone.")
    performanceMetrics: list[MonthlyScore] = Field(
        description="Score of each of the last 6 months, oldest first, ending with this month."
    )
    serviceHistory: list[ServiceRecord] = Field(description="Recent services, newest first.")


class SlaMetric(BaseModel):
    """One service-level objective of a contract and how it is met."""

    metric: str = Field(description="What is measured.", examples=["Uptime"])
    target: float = Field(description="Agreed level.")
    actual: float = Field(description="Measured level this month.")
    unit: SlaUnit = Field(
        description="Unit symbol of target and actual, printed right after the number: % (percent), h (hours), "
        "d (days).",
        examples=["%"],
    )


class Contract(Entity):
    """A service contract with one of the vendors."""

    id: str = Field(description="Stable id, `contract-N`.", examples=["contract-1"])
    vendorId: str = Field(description="Id of the vendor, always an existing one.", examples=["vendor-3"])
    vendorName: str = Field(description="That vendor's name.")
    type: str = Field(description="Kind of service contracted.", examples=["Managed Security"])
    value: Money = Field(ge=0, description="Value of the contract term, USD.")
    startDate: str = Field(description="`YYYY-MM-DD`.")
    endDate: str = Field(description="`YYYY-MM-DD`, after startDate.")
    autoRenew: bool = Field(description="Renews by itself at the end of the term.")
    noticePeriod: int = Field(ge=0, description="Days of notice needed to cancel.")
    status: ContractStatus = Field(description="Expired after endDate, Expiring Soon within 90 days of it.")
    lastUpdated: str = Field(description=TIMESTAMP)
    serviceType: str = Field(description="Same as type.")
    slaCompliance: float = Field(ge=0, le=100, description="SLA objectives met this month, %.")
    renewalStatus: RenewalStatus = Field(
        description="auto-renew when autoRenew; otherwise expiring within 90 days of the end, else manual."
    )
    paymentTerms: str = Field(description="Payment terms.")
    slaMetrics: list[SlaMetric] = Field(description="Service-level objectives and this month's figures.")
    terms: list[str] = Field(description="Key clauses.")


ENTITY_MODELS: dict[str, type[Entity]] = {
    "clients": Client,
    "licenses": License,
    "leads": Lead,
    "technicians": Technician,
    "departments": Department,
    "vendors": Vendor,
    "contracts": Contract,
}


class EntityCounts(BaseModel):
    """Number of items of each entity."""

    clients: int = Field(examples=[20])
    licenses: int = Field(examples=[30])
    leads: int = Field(examples=[25])
    technicians: int = Field(examples=[15])
    departments: int = Field(examples=[6])
    vendors: int = Field(examples=[15])
    contracts: int = Field(examples=[20])


class RootInfo(BaseModel):
    """What `/` says about the service."""

    message: str = Field(examples=["MSP Data Simulator API"])
    status: Literal["running", "stopped"] = Field(description="Whether the tick task is running.")
    update_interval: str = Field(description="Tick interval.", examples=["30s"])
    last_update: str = Field(description="Time of the tick being served.", examples=["2025-01-15T10:30:00Z"])


class Health(BaseModel):
    """Liveness answer with item counts."""

    status: Literal["healthy"] = "healthy"
    timestamp: str = Field(description="Time of the answer.", examples=["2025-01-15T10:30:00Z"])
    data_counts: EntityCounts


class Stats(BaseModel):
    """Counters of the simulation and its integrations."""

    timestamp: str = Field(description="Time of the answer.")
    counts: EntityCounts
    update_interval: int | float = Field(
        description="Seconds between ticks: an integer when the interval is whole, as in `30`.", examples=[30]
    )
    is_running: bool = Field(description="Whether the tick task is running.")
    seed: int = Field(description="Seed of the current generation.")
    epoch: str = Field(description="Time of tick 0 of the current generation.")
    tick: int = Field(description="Number of the tick being served.")
    last_tick_at: str = Field(description="Simulated time of the tick being served.")
    next_tick_at: str = Field(description="When the next tick is due.")
    last_tick_duration_ms: float = Field(description="How long computing the last tick took.")
    ticks_computed: int = Field(description="Ticks computed by the background task since start.")
    ticks_failed: int = Field(description="Ticks that raised; the loop carried on.")
    generation_started_at: str = Field(description="When the current generation was created.")
    dynamodb: dict[str, Any] = Field(
        default_factory=dict, description="State of the DynamoDB mirror (enabled, last sync, pending items)."
    )
    scenarios: list[str] = Field(default_factory=list, description="Scenarios acting on the served tick.")
    sse_subscribers: int = Field(0, description="Clients following /api/events.")


class RegenerateResult(BaseModel):
    """Answer of `POST /api/regenerate`."""

    message: str = Field(examples=["Data regenerated"])
    seed: int
    epoch: str
    tick: int
    timestamp: str
    counts: EntityCounts


class ScenarioRunInfo(BaseModel):
    """A scenario scheduled in the current generation."""

    name: str = Field(examples=["churn-wave"])
    startTick: int = Field(description="First tick the scenario acts on.")
    endTick: int = Field(description="First tick after the scenario has ended.")
    startsAt: str = Field(description="Time of startTick.")
    endsAt: str = Field(description="Time of endTick.")
    target: str | None = Field(None, description="The vendor a vendor outage hits.", examples=["vendor-3"])
    active: bool = Field(description="Whether the scenario acts on the served tick.")


class ScenarioCatalogue(BaseModel):
    """The scenarios a frontend can start, and those of the current generation."""

    available: dict[str, str] = Field(description="Scenario name to what it does.")
    runs: list[ScenarioRunInfo] = Field(description="Scenarios of the current generation, oldest first.")


class ScenarioRequest(BaseModel):
    """Start a scenario at the next tick, for a number of ticks."""

    model_config = ConfigDict(extra="forbid")

    name: ScenarioName = Field(description="Which scenario.", examples=["churn-wave"])
    durationTicks: int = Field(120, ge=1, le=100_000, description="How many ticks it lasts.")
    vendorId: str | None = Field(
        None,
        pattern=r"^vendor-[1-9][0-9]{0,5}$",
        description="The vendor a vendor outage hits; a vendor chosen by the simulation when omitted.",
    )


class HistoryPoint(BaseModel):
    """The dashboard KPIs at one tick."""

    tick: int
    time: str
    totalMrr: float = Field(description="Sum of the clients' monthly recurring revenue, USD.")
    averageMargin: float = Field(description="Mean of the clients' margin percentages.")
    atRiskClients: int = Field(description="Clients whose status is At Risk.")
    licenseUtilization: float = Field(description="Seats used over seats purchased, %.")
    pipelineValue: float = Field(description="Value of the open leads, USD.")
    weightedPipelineValue: float = Field(description="Open leads' value weighted by probability, USD.")
    technicianUtilization: float = Field(description="Billable over total hours, %.")
    departmentSpend: float = Field(description="All departments' spend this month, USD.")
    vendorSpend: float = Field(description="Spend with all vendors over 12 months, USD.")
    activeContracts: int = Field(description="Contracts not expired.")


class HistoryResult(BaseModel):
    """A KPI time series."""

    start: str = Field(description="Time of the first point.")
    end: str = Field(description="Time of the last point.")
    stepSeconds: float = Field(description="Seconds between points.")
    points: list[HistoryPoint]


def _item_history_models() -> dict[str, type[BaseModel]]:
    """Per entity, the answer of `/api/{kind}/{id}/history` with the item typed as in its list
    (`ClientHistoryResult` of `ClientHistoryPoint`s, ...): what a generated client gets."""
    models: dict[str, type[BaseModel]] = {}
    for kind, entity in ENTITY_MODELS.items():
        name = entity.__name__
        point = create_model(
            f"{name}HistoryPoint",
            __doc__=f"One {name.lower()} as it was at one tick.",
            tick=(int, Field(description="The tick.")),
            time=(str, Field(description="ISO 8601 UTC time of the tick.")),
            item=(entity, Field(description="The item, with the same fields as in its list.")),
        )
        models[kind] = create_model(
            f"{name}HistoryResult",
            __doc__=f"One {name.lower()} over time.",
            id=(str, Field(description="The item's id.")),
            entity=(Literal[kind], Field(description="The entity, as in the path.")),  # type: ignore[arg-type]
            stepSeconds=(float, Field(description="Seconds between points.")),
            points=(list[point], Field(description="The item at each step, oldest first.")),
        )
    return models


ITEM_HISTORY_MODELS = _item_history_models()


# --- the change feed (`/api/events`): the `data` of each event, and the events as a client parses them ---


class EntityIds(BaseModel):
    """Per entity, the ids of the items concerned."""

    clients: list[str]
    licenses: list[str]
    leads: list[str]
    technicians: list[str]
    departments: list[str]
    vendors: list[str]
    contracts: list[str]


class RemovedIds(BaseModel):
    """The ids that left their list: churned clients and closed leads (their successors are among `changed`)."""

    clients: list[str]
    leads: list[str]


class TickEventData(BaseModel):
    """The `data` of a `tick` event."""

    tick: int = Field(description="The new tick.")
    time: str = Field(description="ISO 8601 UTC time of the tick.", examples=["2025-01-15T10:30:00Z"])
    changed: EntityIds = Field(description="Per entity, the ids whose item changed (a field other than lastUpdated).")
    removed: RemovedIds = Field(description="Per replaced entity, the ids that left the list.")


class GenerationEventData(BaseModel):
    """The `data` of a `regenerate` event (a new generation) and of a `scenario` event (a scenario started)."""

    seed: int = Field(description="Seed of the generation.")
    epoch: str = Field(description="Time of tick 0 of the generation.")
    tick: int = Field(description="The tick being served.")
    time: str = Field(description="ISO 8601 UTC time of that tick.")
    counts: EntityCounts
    scenarios: list[str] = Field(description="Names of the generation's scenario runs, oldest first.")


class ResyncEventData(BaseModel):
    """The `data` of a `resync` event: what was missed is not known, refetch everything."""

    reason: str = Field(examples=["you fell behind the change feed"])


class TickEvent(BaseModel):
    """A tick: refetch the ids in `data.changed`, drop those in `data.removed`."""

    event: Literal["tick"]
    id: str = Field(description="`{seed}-{tick}`: send it as `Last-Event-ID` on reconnect.")
    data: TickEventData


class RegenerateEvent(BaseModel):
    """A new generation: refetch everything."""

    event: Literal["regenerate"]
    id: str = Field(description="`{seed}-{tick}`: send it as `Last-Event-ID` on reconnect.")
    data: GenerationEventData


class ScenarioEvent(BaseModel):
    """A scenario started in the current generation."""

    event: Literal["scenario"]
    id: str = Field(description="`{seed}-{tick}-s{runs}`: send it as `Last-Event-ID` on reconnect.")
    data: GenerationEventData


class ResyncEvent(BaseModel):
    """The feed cannot say what was missed: refetch everything (no `id`)."""

    event: Literal["resync"]
    data: ResyncEventData


ChangeFeedEvent = Annotated[TickEvent | RegenerateEvent | ScenarioEvent | ResyncEvent, Field(discriminator="event")]
"""One event of `/api/events` as a client parses it: `event:` and `id:` lines, and the JSON of `data:`."""


class ErrorBody(BaseModel):
    """Every error answer: what went wrong, in a sentence."""

    detail: Any = Field(description="Reason; for validation errors, a list naming each bad field.")


# --- reports -------------------------------------------------------------------------

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


# --- DynamoDB mirror -------------------------------------------------------------------


class TableSyncCounts(BaseModel):
    """What one sync did to one table."""

    written: int = Field(0, description="Items put (new or changed since their last successful write).")
    deleted: int = Field(0, description="Items deleted (no longer in the snapshot).")


class SyncResult(BaseModel):
    """Answer of `POST /api/sync`; HTTP 503 when DynamoDB failed, with `error` saying why."""

    status: Literal["ok", "failed", "disabled"] = Field(description="`disabled` when DynamoDB sync is off.")
    message: str = Field(examples=["DynamoDB holds tick 1234"])
    tick: int | None = Field(None, description="The tick the tables were made equal to.")
    tables: dict[str, TableSyncCounts] = Field(
        default_factory=dict, description="Per entity table, and `metrics` for the KPI points appended."
    )
    retries: int = Field(0, description="Requests sent again (throttling, unprocessed items, transient errors).")
    duration_ms: float = Field(0.0, description="How long the sync took.")
    items_pending: int = Field(0, description="Items that still differ from DynamoDB after this sync.")
    error: str | None = Field(None, description="Why the sync failed.")


class DynamoDBStatus(BaseModel):
    """The DynamoDB mirror as `/api/stats` shows it."""

    enabled: bool
    reason: str | None = Field(None, description="Why sync is off.")
    endpoint: str | None = Field(None, description="The DynamoDB endpoint in use.")
    region: str | None = None
    tables: list[str] = Field(default_factory=list)
    syncing: bool = Field(False, description="Whether a sync is running now.")
    last_sync_at: str | None = Field(None, description="When the last sync started.")
    last_sync_result: Literal["ok", "failed"] | None = None
    last_sync_duration_ms: float | None = None
    last_success_at: str | None = Field(None, description="When the last successful sync started.")
    synced_tick: int | None = Field(None, description="The tick the tables held after the last successful sync.")
    last_error: str | None = Field(None, description="Why the last failed sync failed.")
    last_error_at: str | None = None
    consecutive_failures: int = 0
    items_pending: int = Field(0, description="Items written or deleted by no sync yet.")
    metrics_pending: int = Field(0, description="KPI points waiting for the metrics table.")
    metrics_dropped: int = Field(0, description="KPI points given up during a long outage (oldest first).")
    syncs: int = 0
    syncs_failed: int = 0
    items_written: int = 0
    items_deleted: int = 0
    role: Literal["writer", "reader"] | None = Field(
        None, description="`writer` when this process holds the writer's lease and writes the mirror, else `reader`."
    )
    process_id: str | None = Field(None, description="This process's name in the writer's lease.")
    lease_holder: str | None = Field(None, description="The process holding the writer's lease, as last seen.")
    lease_token: int | None = Field(None, description="Fencing token of the lease: one more on every taking.")
    lease_expires_at: str | None = Field(
        None, description="When the lease runs out unrenewed (the holder's reckoning; past when it was handed back)."
    )
