"""The HTTP routes, one router per concern, assembled in the order they appear in `/docs`.

- `service`: what is running, health, statistics, Prometheus metrics;
- `management`: regenerate the world, sync DynamoDB now (POSTs guarded by `API_KEY`);
- `entities`: the seven lists, one item, one item over time;
- `live`: the KPI history and the change feed (server-sent events);
- `scenarios`: the business scenarios and their runs;
- `reports`: a dashboard's report as a PDF;
- `console`: the live console page and its files (not in the OpenAPI document).
"""

from fastapi import APIRouter

from prism.api.routes import console, entities, live, management, reports, scenarios, service

api_router = APIRouter()
for module in (service, management, entities, live, scenarios, reports, console):
    api_router.include_router(module.router)
