"""The dashboard's KPIs over many ticks at once, from the columns: the same figures as `kpis.compute_kpis`.

Sums run over the items in list order, one after the other (a cumulative sum, not numpy's pairwise one), and
each KPI is rounded with Python's `round`, so every figure has the very bits the snapshot's KPIs have.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

import rules
from prism.simulation.builders import World
from prism.simulation.columns import Columns
from rules import EntityKind

Row = tuple[float, ...]
# Items × ticks evaluated in one go: large enough for numpy to pay off, small enough to stay in cache.
CHUNK_ELEMENTS = 400_000


def _in_order_sum(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Per tick (column), the sum of the items (rows) added in list order, as Python's `sum` adds them."""
    if values.shape[0] == 0:
        return np.zeros(values.shape[1:], dtype=values.dtype)
    result: npt.NDArray[Any] = np.cumsum(values, axis=0)[-1]
    return result


def _rounded(values: npt.NDArray[Any], present: npt.NDArray[Any] | bool = True) -> list[float]:
    """Python's `round(sum, 2)` per tick; a sum over no item is 0.0 (the KPIs are floats, as kpis.py says)."""
    shown = np.broadcast_to(present, values.shape).tolist()
    return [round(v, 2) if any_item else 0.0 for v, any_item in zip(values.tolist(), shown, strict=True)]


def _percent(part: npt.NDArray[Any], whole: npt.NDArray[Any]) -> list[float]:
    return [round(p / w * 100, 2) if w else 0.0 for p, w in zip(part.tolist(), whole.tolist(), strict=True)]


class Cancelled(Exception):
    """The computation was called off (its request is gone)."""


class KpiColumns:
    """The KPIs of one world at any ticks."""

    def __init__(self, world: World) -> None:
        self.columns = Columns(world)
        self.counts = self.columns.counts

    def _grid(self, kind: EntityKind, ticks: npt.NDArray[np.int64]) -> dict[str, npt.NDArray[Any]]:
        """The KPI fields of every item of a kind at every tick, shaped (items, ticks)."""
        count = self.counts[kind]
        index = np.repeat(np.arange(count, dtype=np.int64), ticks.size)
        fields = self.columns.fields(kind, index, np.tile(ticks, count))
        return {name: values.reshape(count, ticks.size) for name, values in fields.items()}

    def rows(self, ticks: Sequence[int], stop: threading.Event | None = None) -> list[Row]:
        """The KPI row (in `rules.KPI_NAMES` order) of each tick; `Cancelled` once `stop` is set."""
        items = max(1, sum(self.counts.values()))
        per_chunk = max(1, CHUNK_ELEMENTS // items)
        rows: list[Row] = []
        for first in range(0, len(ticks), per_chunk):
            if stop is not None and stop.is_set():
                raise Cancelled
            rows.extend(self._chunk(np.asarray(ticks[first : first + per_chunk], dtype=np.int64)))
        return rows

    def _chunk(self, ticks: npt.NDArray[np.int64]) -> list[Row]:
        empty = np.zeros((0, ticks.size))
        grids = {
            kind: self._grid(kind, ticks) if self.counts[kind] else None
            for kind in ("clients", "licenses", "leads", "technicians", "departments", "vendors", "contracts")
        }
        clients = grids["clients"] or {"monthlyRecurring": empty, "marginPercentage": empty}
        licenses = grids["licenses"] or {"usedLicenses": empty, "totalLicenses": empty}
        leads = grids["leads"] or {"value": empty, "probability": empty, "open": empty.astype(bool)}
        technicians = grids["technicians"] or {"billableHours": empty, "totalHours": empty}
        departments = grids["departments"] or {"actualSpend": empty}
        vendors = grids["vendors"] or {"totalSpend": empty}
        contracts = grids["contracts"] or {"active": empty.astype(bool)}

        client_count = self.counts["clients"]
        margins = _in_order_sum(clients["marginPercentage"])
        average = [round(m / client_count, 2) for m in margins.tolist()] if client_count else [0.0] * ticks.size
        at_risk = (clients["marginPercentage"] < rules.AT_RISK_MARGIN).sum(axis=0)
        is_open = leads["open"]
        any_open: npt.NDArray[Any] = np.asarray(is_open.any(axis=0))
        pipeline = _in_order_sum(np.where(is_open, leads["value"], 0.0))
        weighted = _in_order_sum(np.where(is_open, leads["value"] * leads["probability"] / 100, 0.0))
        columns = (
            _rounded(_in_order_sum(clients["monthlyRecurring"]), client_count > 0),
            average,
            at_risk.tolist(),
            _percent(_in_order_sum(licenses["usedLicenses"]), _in_order_sum(licenses["totalLicenses"])),
            _rounded(pipeline, any_open),
            _rounded(weighted, any_open),
            _percent(_in_order_sum(technicians["billableHours"]), _in_order_sum(technicians["totalHours"])),
            _rounded(_in_order_sum(departments["actualSpend"]), self.counts["departments"] > 0),
            _rounded(_in_order_sum(vendors["totalSpend"]), self.counts["vendors"] > 0),
            contracts["active"].sum(axis=0).tolist(),
        )
        return list(zip(*columns, strict=True))
