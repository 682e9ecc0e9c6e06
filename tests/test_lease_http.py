"""Several service processes on one set of tables over real HTTP: one writer at a time, through stops and deaths.

Every process sends with an access key of its own, so moto's log says who wrote what, in the order it arrived.
Nothing here times anything: it counts writes, orders them against the lease's changes of hands, and polls with
generous deadlines for what must happen eventually.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest

import data_generator as dg
from kpis import KPI_NAMES
from tests.conftest import SEED
from tests.recording_moto import Received, RecordingMoto, takings, writes_by_non_holders
from tests.servers import service_process
from tests.test_dynamodb_client import table_items
from tests.test_dynamodb_http import api_items, settled_scan, stats, tick_time

INTERVAL = 0.5
LEASE_TICKS = 4
EVENTUALLY = 60.0  # seconds: generous, for a loaded machine


@dataclass
class Service:
    """One service process and the access key it sends with."""

    base: str
    process: subprocess.Popen[bytes]
    key: str

    def dynamodb(self) -> dict[str, Any]:
        status: dict[str, Any] = stats(self.base)["dynamodb"]
        return status


@pytest.fixture
def moto() -> Iterator[RecordingMoto]:
    server = RecordingMoto()
    server.start()
    server.reset()
    yield server
    server.reset()
    server.stop()


@pytest.fixture
def services(moto: RecordingMoto, tmp_path: Any) -> Iterator[Callable[[int], list[Service]]]:
    """Start n processes one after the other (the first takes the lease); all are stopped at the end."""
    with ExitStack() as stack:
        started: list[Service] = []

        def start(count: int) -> list[Service]:
            for _ in range(count):
                key = f"PROCESS{len(started) + 1}"
                env = {
                    "AWS_ACCESS_KEY_ID": key,
                    "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_REGION": "us-east-2",
                    "AWS_ENDPOINT_URL_DYNAMODB": moto.endpoint,
                    "DYNAMODB_ENABLED": "true",
                    "DYNAMODB_LEASE_TICKS": str(LEASE_TICKS),
                    "SIMULATOR_SEED": str(SEED),
                    "UPDATE_INTERVAL_SECONDS": str(INTERVAL),
                    "REPORTS_DIR": str(tmp_path / "reports"),
                }
                base, process = stack.enter_context(service_process(env))
                started.append(Service(base, process, key))
                if len(started) == 1:
                    wait_for(lambda: started[0].dynamodb()["role"] == "writer")
            return started

        yield start


def wait_for(condition: Callable[[], bool], timeout: float = EVENTUALLY) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not reached in {timeout} s"
        time.sleep(0.05)


def wait_ticks(service: Service, count: int) -> None:
    """Let `count` ticks of this process pass."""
    first = stats(service.base)["tick"]
    wait_for(lambda: stats(service.base)["tick"] >= first + count)


def readers_agree_on(writer: Service, readers: list[Service]) -> bool:
    holder = writer.dynamodb()["process_id"]
    return all(r.dynamodb()["role"] == "reader" and r.dynamodb()["lease_holder"] == holder for r in readers)


def the_writer(candidates: list[Service]) -> Service | None:
    writers = [service for service in candidates if service.dynamodb()["role"] == "writer"]
    return writers[0] if len(writers) == 1 else None


def assert_tables_equal_the_api(moto: RecordingMoto, writer: Service) -> None:
    """The tables, scanned between two syncs, hold exactly the writer's snapshot of the tick it synced."""
    synced_tick, tables = settled_scan(writer.base, moto.client(), timeout=EVENTUALLY)
    at = tick_time(stats(writer.base), synced_tick)
    for kind in dg.ENTITY_KINDS:
        assert tables[kind] == api_items(writer.base, kind, at), kind


def assert_one_writer_at_a_time(log: list[Received]) -> None:
    """Every item write arrived from the process holding the lease at that moment of the log."""
    wrong = writes_by_non_holders(log)
    assert not wrong, [(entry.seq, entry.sender) for entry in wrong]


def assert_every_kpi_tick_written(moto: RecordingMoto) -> None:
    """KPI points of every tick from the first to the last one written: a hand-over loses none."""
    points = [point for point in table_items(moto.client(), "prism-metrics") if point["timestamp"] != 0]
    by_time = Counter(point["timestamp"] for point in points)
    assert set(by_time.values()) == {len(KPI_NAMES)}
    times = sorted(by_time)
    steps = {round(float(later - earlier) / INTERVAL) for earlier, later in itertools.pairwise(times)}
    assert steps == {1}, sorted(steps)


def test_three_processes_write_each_change_once_as_one_would(
    moto: RecordingMoto, services: Callable[[int], list[Service]]
) -> None:
    writer, *readers = services(3)
    wait_for(lambda: readers_agree_on(writer, readers))
    since = moto.mark()
    wait_ticks(writer, 10)
    log = moto.received(since)
    batches = [entry for entry in log if entry.operation == "BatchWriteItem"]
    assert batches
    assert {entry.sender for entry in batches} == {writer.key}
    assert {entry.sender for entry in log if entry.on_lease} == {writer.key}  # readers only read the lease
    puts = Counter()
    for entry in batches:
        for table, requests in entry.body["RequestItems"].items():
            for request in requests:
                item = request["PutRequest"]["Item"]
                if table == "prism-metrics":
                    puts[(table, item["metricType"]["S"], item["timestamp"]["N"])] += 1
                else:
                    puts[(table, item["id"]["S"], item["lastUpdated"]["S"])] += 1
    assert set(puts.values()) == {1}  # each change and each KPI point once, as one process writes them
    for reader in readers:
        assert reader.dynamodb()["items_written"] == 0
        assert reader.dynamodb()["syncs"] == 0
    assert_one_writer_at_a_time(moto.received())


def test_sigterm_hands_the_lease_to_the_other_process(
    moto: RecordingMoto, services: Callable[[int], list[Service]]
) -> None:
    writer, reader = services(2)
    wait_for(lambda: readers_agree_on(writer, [reader]))
    wait_ticks(writer, 3)
    writer.process.terminate()
    writer.process.wait(timeout=30)  # uvicorn's command line re-raises the signal once it has shut down
    wait_for(lambda: reader.dynamodb()["role"] == "writer")
    wait_ticks(reader, 3)
    log = moto.received()
    assert_one_writer_at_a_time(log)
    hands = takings(log)
    assert [owner for _, owner in hands][-3:] == [writer.key, None, reader.key]  # handed back, then taken
    handed_back = hands[-2][0]
    assert max(entry.seq for entry in log if entry.sender == writer.key and entry.operation == "BatchWriteItem") < (
        handed_back
    )
    assert reader.dynamodb()["lease_token"] == 2
    assert_tables_equal_the_api(moto, reader)
    assert_every_kpi_tick_written(moto)


def test_sigkill_of_the_writer_gives_exactly_one_successor(
    moto: RecordingMoto, services: Callable[[int], list[Service]]
) -> None:
    writer, *others = services(3)
    wait_for(lambda: readers_agree_on(writer, others))
    wait_ticks(writer, 3)
    writer.process.kill()
    writer.process.wait(timeout=30)
    wait_for(lambda: the_writer(others) is not None)
    successor = the_writer(others)
    assert successor is not None
    (bystander,) = [service for service in others if service is not successor]
    wait_ticks(successor, 3)
    assert bystander.dynamodb()["role"] == "reader"
    assert bystander.dynamodb()["lease_holder"] == successor.dynamodb()["process_id"]
    log = moto.received()
    assert_one_writer_at_a_time(log)
    assert [owner for _, owner in takings(log)][-2:] == [writer.key, successor.key]  # it died holding the lease
    assert_tables_equal_the_api(moto, successor)
    assert_every_kpi_tick_written(moto)


def test_dynamodb_down_and_back_during_a_hand_over(
    moto: RecordingMoto, services: Callable[[int], list[Service]]
) -> None:
    writer, reader = services(2)
    wait_for(lambda: readers_agree_on(writer, [reader]))
    wait_ticks(writer, 3)
    moto.stop()
    writer.process.terminate()  # its last sync and its hand-back fail: the lease runs out by itself
    writer.process.wait(timeout=30)
    wait_ticks(reader, 3)
    assert reader.dynamodb()["role"] == "reader"
    moto.start()
    wait_for(lambda: reader.dynamodb()["role"] == "writer")
    wait_ticks(reader, 3)
    log = moto.received()
    assert_one_writer_at_a_time(log)
    assert [owner for _, owner in takings(log)][-2:] == [writer.key, reader.key]
    assert_tables_equal_the_api(moto, reader)


def test_a_paused_writer_writes_nothing_after_it_wakes(
    moto: RecordingMoto, services: Callable[[int], list[Service]]
) -> None:
    writer, reader = services(2)
    wait_for(lambda: readers_agree_on(writer, [reader]))
    wait_ticks(writer, 3)
    os.kill(writer.process.pid, signal.SIGSTOP)
    try:
        wait_for(lambda: reader.dynamodb()["role"] == "writer")
        wait_ticks(reader, 3)
    finally:
        os.kill(writer.process.pid, signal.SIGCONT)
    wait_for(lambda: writer.dynamodb()["role"] == "reader")
    wait_ticks(writer, 2 * LEASE_TICKS)
    assert writer.dynamodb()["lease_holder"] == reader.dynamodb()["process_id"]
    log = moto.received()
    assert_one_writer_at_a_time(log)
    taken = takings(log)[-1]
    assert taken[1] == reader.key
    late = [entry for entry in log if entry.sender == writer.key and entry.seq > taken[0]]
    assert all(entry.operation != "BatchWriteItem" for entry in late), late
    assert not [entry for entry in late if entry.on_lease and entry.status == 200]  # its renewal was refused
    assert_tables_equal_the_api(moto, reader)
