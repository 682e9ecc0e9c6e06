"""What operators see: Prometheus metrics of requests, ticks, syncs and reports, and JSON log lines."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prism.api.asgi import HttpMiddleware

PROMETHEUS_CONTENT_TYPE = CONTENT_TYPE_LATEST
# A value read at scrape time: (help, value), or (help, value, labels) for a value that names something.
StateGauge = tuple[str, float] | tuple[str, float, Mapping[str, str]]
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServiceMetrics:
    """The app's own registry (not the global one, so that several apps can live in one process)."""

    def __init__(self) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # `_created` series only add noise
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "prism_http_requests", "HTTP requests answered", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "prism_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.tick_duration = Histogram(
            "prism_tick_duration_seconds", "Time to compute a tick", buckets=LATENCY_BUCKETS, registry=self.registry
        )
        self._request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self.reports = Counter(
            "prism_reports_rendered", "PDF reports rendered", ["page_type", "outcome"], registry=self.registry
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count and time one answered request. The labelled children are kept: `labels()` takes a lock
        and builds a key on every call, and this runs for every request, the plain lists' too."""
        children = self._request_children.get((method, route, status))
        if children is None:
            children = self._request_children[(method, route, status)] = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
        count, latency = children
        count.inc()
        latency.observe(seconds)

    def exposition(self) -> bytes:
        """Every metric in Prometheus' text format."""
        return generate_latest(self.registry)

    def add_state(self, read: Callable[[], Mapping[str, StateGauge]]) -> None:
        """Export values read at scrape time: name -> (help, value) or (help, value, labels)."""
        self.registry.register(_StateCollector(read))


class _StateCollector(Collector):
    def __init__(self, read: Callable[[], Mapping[str, StateGauge]]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        for name, (help_text, value, *labelled) in self._read().items():
            if not labelled:
                yield GaugeMetricFamily(name, help_text, value=value)
                continue
            labels = labelled[0]
            family = GaugeMetricFamily(name, help_text, labels=list(labels))
            family.add_metric(list(labels.values()), value)
            yield family

    def describe(self) -> Iterator[Metric]:
        return iter(())


class RequestMetrics(HttpMiddleware):
    """ASGI middleware counting and timing every HTTP request by its route template."""

    def __init__(self, app: ASGIApp, *, metrics: ServiceMetrics) -> None:
        super().__init__(app)
        self.metrics = metrics

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            template = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe_request(scope["method"], template, status, time.perf_counter() - started)


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, as CloudWatch Logs Insights likes them."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, log_format: str) -> None:
    """Send every log line (the service's and uvicorn's) to stderr, as text or JSON."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers[:] = []
        uvicorn_logger.propagate = True
