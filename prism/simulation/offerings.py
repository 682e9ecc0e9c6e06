"""What the simulated MSP sells, staffs and buys: software products and their list prices, technician
roles and their rates, departments and their spend, regions, vendors, contract types and SLAs."""

from __future__ import annotations

from typing import NamedTuple


class Product(NamedTuple):
    """A software product sold per seat, with its list price per seat per year."""

    vendor: str
    product: str
    license_type: str
    annual_price: float  # list price per seat (or device, or concurrent session) per year, USD


SOFTWARE_PRODUCTS: tuple[Product, ...] = (
    Product("Microsoft", "Microsoft 365 Business Premium", "User", 264.00),
    Product("Microsoft", "Microsoft 365 Business Standard", "User", 150.00),
    Product("Microsoft", "Microsoft 365 Business Basic", "User", 72.00),
    Product("Microsoft", "Microsoft 365 E3", "User", 432.00),
    Product("Microsoft", "Microsoft 365 E5", "User", 684.00),
    Product("Microsoft", "Exchange Online Plan 1", "User", 48.00),
    Product("Microsoft", "Windows Server 2022 Device CAL", "Device", 54.00),
    Product("Microsoft", "Visio Plan 2", "User", 180.00),
    Product("Microsoft", "Power BI Pro", "User", 168.00),
    Product("Google", "Google Workspace Business Standard", "User", 168.00),
    Product("Google", "Google Workspace Business Plus", "User", 264.00),
    Product("Adobe", "Acrobat Pro for Teams", "User", 287.88),
    Product("Adobe", "Creative Cloud All Apps for Teams", "User", 1079.88),
    Product("Salesforce", "Sales Cloud Enterprise", "User", 1980.00),
    Product("Slack", "Slack Business+", "User", 180.00),
    Product("Zoom", "Zoom Workplace Business", "User", 219.84),
    Product("Atlassian", "Jira Standard", "User", 103.20),
    Product("Atlassian", "Confluence Standard", "User", 72.60),
    Product("Dropbox", "Dropbox Business Plus", "User", 312.00),
    Product("DocuSign", "DocuSign Business Pro", "User", 480.00),
    Product("CrowdStrike", "Falcon Pro", "Device", 99.96),
    Product("SentinelOne", "Singularity Complete", "Device", 120.00),
    Product("Sophos", "Intercept X Advanced", "Device", 51.00),
    Product("Veeam", "Backup for Microsoft 365", "User", 24.00),
    Product("Datto", "Datto RMM", "Device", 39.00),
    Product("N-able", "N-sight RMM", "Device", 34.80),
    Product("ConnectWise", "ConnectWise ScreenConnect", "Concurrent", 540.00),
    Product("Citrix", "Citrix DaaS Premium", "Concurrent", 264.00),
    Product("Autodesk", "AutoCAD", "User", 2030.00),
    Product("Intuit", "QuickBooks Online Advanced", "User", 360.00),
    Product("1Password", "1Password Business", "User", 95.88),
    Product("KnowBe4", "Security Awareness Training Gold", "User", 30.00),
    Product("Proofpoint", "Essentials Business", "User", 54.00),
    Product("Cisco", "Duo Advantage", "User", 72.00),
    Product("Tableau", "Tableau Creator", "User", 900.00),
)


class RoleBand(NamedTuple):
    """A technician role: the skill levels it is staffed at and the rate band of each, USD/hour."""

    role: str
    rates: dict[str, tuple[float, float]]
    certifications: tuple[str, ...]


TECHNICIAN_ROLES: tuple[RoleBand, ...] = (
    RoleBand(
        "Help Desk Technician",
        {"Junior": (35, 50), "Mid": (48, 65)},
        (
            "CompTIA A+",
            "CompTIA Network+",
            "ITIL 4 Foundation",
            "Microsoft 365 Fundamentals",
            "HDI Support Center Analyst",
        ),
    ),
    RoleBand(
        "Desktop Support Specialist",
        {"Junior": (40, 55), "Mid": (52, 70)},
        (
            "CompTIA A+",
            "Microsoft Modern Desktop Administrator",
            "Apple Certified Support Professional",
            "ITIL 4 Foundation",
        ),
    ),
    RoleBand(
        "Systems Administrator",
        {"Mid": (65, 90), "Senior": (88, 120)},
        (
            "Microsoft Azure Administrator",
            "CompTIA Server+",
            "Red Hat Certified System Administrator",
            "VMware VCP-DCV",
            "CompTIA Linux+",
        ),
    ),
    RoleBand(
        "Network Engineer",
        {"Mid": (75, 100), "Senior": (98, 135), "Expert": (130, 170)},
        (
            "Cisco CCNA",
            "Cisco CCNP Enterprise",
            "Fortinet NSE 4",
            "Juniper JNCIA",
            "CompTIA Network+",
            "Cisco CCIE Enterprise",
        ),
    ),
    RoleBand(
        "Security Analyst",
        {"Mid": (85, 115), "Senior": (110, 150), "Expert": (145, 195)},
        ("CompTIA Security+", "CISSP", "CEH", "GIAC GCIH", "CompTIA CySA+", "Microsoft Security Operations Analyst"),
    ),
    RoleBand(
        "Cloud Architect",
        {"Senior": (125, 165), "Expert": (160, 220)},
        (
            "AWS Solutions Architect Professional",
            "Microsoft Azure Solutions Architect Expert",
            "Google Professional Cloud Architect",
            "HashiCorp Terraform Associate",
        ),
    ),
    RoleBand(
        "Database Administrator",
        {"Mid": (75, 100), "Senior": (100, 140)},
        ("Microsoft Azure Database Administrator", "Oracle Database SQL Certified Associate", "AWS Database Specialty"),
    ),
    RoleBand(
        "Field Service Technician",
        {"Junior": (38, 52), "Mid": (50, 68)},
        ("CompTIA A+", "BICSI Installer 2", "CompTIA Network+", "Dell Certified Technician"),
    ),
    RoleBand(
        "DevOps Engineer",
        {"Mid": (90, 120), "Senior": (115, 155), "Expert": (150, 200)},
        (
            "Certified Kubernetes Administrator",
            "AWS DevOps Engineer Professional",
            "HashiCorp Terraform Associate",
            "Docker Certified Associate",
        ),
    ),
    RoleBand(
        "Project Manager",
        {"Mid": (80, 105), "Senior": (100, 140)},
        ("PMP", "PRINCE2 Practitioner", "Certified ScrumMaster", "ITIL 4 Managing Professional"),
    ),
)

SKILL_ORDER = ("Junior", "Mid", "Senior", "Expert")


class DepartmentKind(NamedTuple):
    """A department of the MSP: name, usual headcount and its expense categories."""

    name: str
    employees: tuple[int, int]
    monthly_cost_per_employee: tuple[float, float]
    categories: tuple[str, ...]


DEPARTMENTS: tuple[DepartmentKind, ...] = (
    DepartmentKind(
        "IT Operations", (15, 60), (1800, 2600), ("Software", "Hardware", "Cloud Services", "Salaries", "Training")
    ),
    DepartmentKind(
        "Sales", (8, 40), (1500, 2300), ("Salaries", "Commissions", "Travel", "Marketing Materials", "Software")
    ),
    DepartmentKind(
        "Marketing", (5, 25), (1700, 2500), ("Advertising", "Events", "Content Production", "Software", "Salaries")
    ),
    DepartmentKind(
        "Finance", (4, 18), (1600, 2200), ("Salaries", "Audit Fees", "Software", "Banking Fees", "Training")
    ),
    DepartmentKind(
        "Human Resources",
        (3, 15),
        (1400, 2000),
        ("Salaries", "Recruiting", "Benefits Administration", "Training", "Software"),
    ),
    DepartmentKind(
        "Customer Success", (6, 35), (1400, 2000), ("Salaries", "Software", "Training", "Travel", "Client Events")
    ),
    DepartmentKind(
        "Security Operations",
        (5, 25),
        (2000, 2900),
        ("Security Tools", "Salaries", "Threat Intelligence", "Training", "Consulting"),
    ),
    DepartmentKind(
        "Service Desk", (10, 50), (1300, 1900), ("Salaries", "Software", "Telephony", "Training", "Hardware")
    ),
    DepartmentKind(
        "Professional Services", (8, 40), (1900, 2700), ("Salaries", "Travel", "Subcontractors", "Software", "Training")
    ),
    DepartmentKind(
        "Network Operations Center",
        (6, 30),
        (1900, 2700),
        ("Salaries", "Monitoring Tools", "Hardware", "Connectivity", "Training"),
    ),
    DepartmentKind("Procurement", (3, 12), (1500, 2100), ("Salaries", "Software", "Logistics", "Travel")),
    DepartmentKind(
        "Legal & Compliance", (2, 10), (2200, 3200), ("Salaries", "Outside Counsel", "Compliance Audits", "Software")
    ),
    DepartmentKind(
        "Facilities", (3, 14), (1500, 2300), ("Rent", "Utilities", "Maintenance", "Office Supplies", "Security")
    ),
    DepartmentKind(
        "Engineering", (8, 45), (2100, 3000), ("Salaries", "Cloud Services", "Software", "Hardware", "Training")
    ),
    DepartmentKind("Executive Office", (2, 8), (2600, 3800), ("Salaries", "Travel", "Consulting", "Events")),
    DepartmentKind(
        "Training & Enablement", (2, 12), (1500, 2100), ("Salaries", "Certification Fees", "Course Content", "Travel")
    ),
)

REGIONS = (
    "North America",
    "EMEA",
    "APAC",
    "LATAM",
    "East",
    "West",
    "Central",
    "South",
    "Canada",
    "UK & Ireland",
    "DACH",
    "Nordics",
    "ANZ",
    "Benelux",
    "Iberia",
    "Midwest",
)


class VendorKind(NamedTuple):
    """A supplier the MSP buys from, with what it sells and the contracts it holds."""

    name: str
    domain: str
    category: str
    annual_value: tuple[float, float]
    services: tuple[str, ...]


VENDORS: tuple[VendorKind, ...] = (
    VendorKind(
        "Microsoft",
        "microsoft.com",
        "Software",
        (120_000, 480_000),
        ("Microsoft 365 CSP", "Azure Consumption", "Premier Support"),
    ),
    VendorKind(
        "Dell Technologies",
        "dell.com",
        "Hardware",
        (80_000, 350_000),
        ("Hardware Procurement", "ProSupport Plus", "Server Refresh"),
    ),
    VendorKind(
        "Cisco",
        "cisco.com",
        "Networking",
        (60_000, 260_000),
        ("Meraki Licensing", "SmartNet Support", "Network Hardware"),
    ),
    VendorKind(
        "Amazon Web Services",
        "aws.amazon.com",
        "Cloud Services",
        (90_000, 420_000),
        ("Cloud Hosting", "Enterprise Support", "Backup Storage"),
    ),
    VendorKind(
        "Pax8",
        "pax8.com",
        "Distribution",
        (100_000, 500_000),
        ("Cloud Marketplace", "License Distribution", "Billing Platform"),
    ),
    VendorKind(
        "ConnectWise",
        "connectwise.com",
        "MSP Platform",
        (30_000, 120_000),
        ("PSA Platform", "Remote Support", "Automation"),
    ),
    VendorKind(
        "CrowdStrike",
        "crowdstrike.com",
        "Security",
        (40_000, 200_000),
        ("Endpoint Protection", "Managed Threat Hunting", "Incident Response"),
    ),
    VendorKind(
        "Datto",
        "datto.com",
        "Backup & Recovery",
        (25_000, 110_000),
        ("Backup Appliances", "SaaS Protection", "Disaster Recovery"),
    ),
    VendorKind(
        "TD SYNNEX",
        "tdsynnex.com",
        "Distribution",
        (70_000, 300_000),
        ("Hardware Distribution", "Configuration Services", "Logistics"),
    ),
    VendorKind(
        "Fortinet", "fortinet.com", "Security", (30_000, 150_000), ("Firewall Licensing", "FortiCare Support", "SD-WAN")
    ),
    VendorKind(
        "Lenovo",
        "lenovo.com",
        "Hardware",
        (40_000, 180_000),
        ("Laptop Procurement", "Premier Support", "Device Lifecycle"),
    ),
    VendorKind(
        "Verizon Business",
        "verizon.com",
        "Telecommunications",
        (30_000, 140_000),
        ("Business Internet", "Mobile Plans", "SIP Trunking"),
    ),
    VendorKind(
        "Veeam",
        "veeam.com",
        "Backup & Recovery",
        (20_000, 90_000),
        ("Backup Licensing", "Cloud Connect", "Support Renewal"),
    ),
    VendorKind(
        "SentinelOne",
        "sentinelone.com",
        "Security",
        (30_000, 150_000),
        ("Endpoint Protection", "Vigilance MDR", "Threat Hunting"),
    ),
    VendorKind(
        "Ingram Micro",
        "ingrammicro.com",
        "Distribution",
        (60_000, 280_000),
        ("Cloud Marketplace", "Hardware Distribution", "Financing"),
    ),
    VendorKind(
        "HP Inc.", "hp.com", "Hardware", (35_000, 160_000), ("Printer Fleet", "Laptop Procurement", "Care Packs")
    ),
    VendorKind(
        "Kaseya", "kaseya.com", "MSP Platform", (25_000, 110_000), ("RMM Platform", "IT Documentation", "Backup")
    ),
    VendorKind(
        "Proofpoint",
        "proofpoint.com",
        "Security",
        (20_000, 90_000),
        ("Email Security", "Security Awareness", "Archiving"),
    ),
    VendorKind(
        "Ubiquiti", "ui.com", "Networking", (10_000, 60_000), ("Wireless Hardware", "Switching", "Camera Systems")
    ),
    VendorKind(
        "Comcast Business",
        "comcastbusiness.com",
        "Telecommunications",
        (20_000, 100_000),
        ("Fiber Internet", "Business Voice", "Ethernet"),
    ),
    VendorKind(
        "Google Cloud",
        "cloud.google.com",
        "Cloud Services",
        (40_000, 220_000),
        ("Workspace Licensing", "Cloud Hosting", "BigQuery"),
    ),
    VendorKind(
        "Sophos",
        "sophos.com",
        "Security",
        (20_000, 95_000),
        ("Firewall Licensing", "Managed Detection", "Endpoint Protection"),
    ),
    VendorKind(
        "N-able", "n-able.com", "MSP Platform", (20_000, 90_000), ("RMM Platform", "Cove Backup", "Mail Assure")
    ),
    VendorKind(
        "Lumen Technologies",
        "lumen.com",
        "Telecommunications",
        (40_000, 200_000),
        ("MPLS Network", "Dedicated Internet", "DDoS Mitigation"),
    ),
    VendorKind(
        "Equinix", "equinix.com", "Data Center", (60_000, 300_000), ("Colocation", "Cross Connects", "Remote Hands")
    ),
)

CONTRACT_TYPES_BY_CATEGORY = {
    "Software": ("Software Licensing", "Enterprise Agreement", "Support & Maintenance"),
    "Hardware": ("Hardware Supply", "Warranty & Support", "Device as a Service"),
    "Networking": ("Network Support", "Hardware Supply", "Managed Network"),
    "Cloud Services": ("Cloud Hosting", "Reserved Capacity", "Enterprise Support"),
    "Distribution": ("Distribution Agreement", "Reseller Agreement"),
    "MSP Platform": ("Platform Subscription", "Professional Services"),
    "Security": ("Managed Security", "Security Licensing", "Incident Response Retainer"),
    "Backup & Recovery": ("Backup & Recovery", "Disaster Recovery"),
    "Telecommunications": ("Connectivity", "Voice Services"),
    "Data Center": ("Colocation", "Managed Hosting"),
}

VENDOR_AGREEMENT_TYPES = (
    "Master Services Agreement",
    "Reseller Agreement",
    "Enterprise Agreement",
    "Subscription Agreement",
    "Partner Program Agreement",
)

PAYMENT_TERMS = ("Net 30", "Net 30", "Net 45", "Net 60", "Net 15", "Due on Receipt", "2/10 Net 30")


class SlaObjective(NamedTuple):
    """A service-level objective, its target, unit and whether higher actual values are better."""

    metric: str
    target: float
    unit: str
    higher_is_better: bool


SLA_OBJECTIVES = (
    SlaObjective("Uptime", 99.9, "%", True),
    SlaObjective("First Response Time", 4.0, "h", False),
    SlaObjective("Resolution Time", 24.0, "h", False),
    SlaObjective("First Contact Resolution", 75.0, "%", True),
    SlaObjective("Patch Compliance", 95.0, "%", True),
    SlaObjective("Delivery Lead Time", 5.0, "d", False),
)

CONTRACT_CLAUSES = (
    "Annual price increase capped at 5%",
    "Termination for convenience with notice",
    "Service credits for missed SLA targets",
    "Data processed only in the United States",
    "Quarterly business reviews",
    "Liability capped at 12 months of fees",
    "Net 30 payment from invoice date",
    "Dedicated account manager",
    "24x7 priority support",
    "Mutual non-disclosure",
    "Right to audit on 30 days' notice",
    "Volume discount above committed spend",
)
