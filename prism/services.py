"""What the app holds, in one typed object: the settings, the simulator, the DynamoDB mirror, the metrics
and the bound on reports rendering at once. It is the only thing kept on `app.state` (`services_of(app)`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from starlette.applications import Starlette

from config import Settings
from dynamodb_sync import DynamoDBSync
from simulator import Simulator
from telemetry import ServiceMetrics

if TYPE_CHECKING:
    import anyio


class Services:
    """The app's parts. The simulator is made by the lifespan, or without one (AWS Lambda) on first use."""

    def __init__(
        self,
        settings: Settings,
        simulator_factory: Callable[[Settings], Simulator],
        dynamodb: DynamoDBSync,
        metrics: ServiceMetrics,
    ) -> None:
        self.settings = settings
        self.simulator_factory = simulator_factory
        # Without a lifespan nothing syncs; the lifespan replaces this with the real mirror.
        self.dynamodb = dynamodb
        self.metrics = metrics
        self.started: Simulator | None = None
        self._report_limiter: anyio.CapacityLimiter | None = None
        self._lock = threading.Lock()

    @property
    def simulator(self) -> Simulator:
        """The simulator serving requests; without a lifespan, one made now that ticks on demand."""
        simulator = self.started
        if simulator is None:
            with self._lock:
                simulator = self.started
                if simulator is None:
                    simulator = self.started = self.simulator_factory(self.settings)
        if not simulator.is_running:
            simulator.catch_up()
        return simulator

    def report_limiter(self, capacity: Callable[[], int]) -> anyio.CapacityLimiter:
        """The bound on reports rendering at once, made on first use (inside the event loop, as anyio asks)."""
        if self._report_limiter is None:
            import anyio

            self._report_limiter = anyio.CapacityLimiter(capacity())
        return self._report_limiter


def services_of(app: Starlette) -> Services:
    """The parts of an app made by `prism.app.create_app`."""
    return cast(Services, app.state.services)
