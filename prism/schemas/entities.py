"""The seven entities as the API serves them: their fields, types, units and vocabularies."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rules import (
    AT_RISK_MARGIN,
    HIGH_CHURN_MARGIN,
    MEDIUM_CHURN_MARGIN,
    ChurnRisk,
    ClientStatus,
    EntityKind,
    LeadStage,
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


ENTITY_MODELS: dict[EntityKind, type[Entity]] = {
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
