"""The six dashboards' reports, one module each over the skeleton in `base`: a page module declares its
`PAGE` (titles, key metrics, other figures, charts, and the `Narrative` that writes its insights).
"""

from __future__ import annotations

from models import PageType
from prism.reporting.pages import clients, licenses, pipeline, resources, spend, vendors
from prism.reporting.pages.base import Page

PAGES: dict[PageType, Page] = {
    "client-profitability": clients.PAGE,
    "software-license": licenses.PAGE,
    "sales-pipeline": pipeline.PAGE,
    "resource-allocation": resources.PAGE,
    "departmental-spend": spend.PAGE,
    "vendor-management": vendors.PAGE,
}
