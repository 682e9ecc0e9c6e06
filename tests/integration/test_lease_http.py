"""Several service processes on one set of tables over real HTTP: one writer at a time, through stops and deaths.

Every process sends with an access key of its own, so moto's log says who wrote what, in the order it arrived.
Nothing here times anything: it counts writes, orders them against the lease's changes of hands, and polls with
generous deadlines for what must happen eventually.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

import data_generator as dg
from tests.support import SEED
from tests.support.dynamodb import as_api_json, scan_entities, stats, table_items
from tests.support.recording_moto import Received, RecordingMoto, takings, writes_by_non_holders
from tests.support.servers import service_process

INTERVAL = 0.5
# A 4 s lease: long enough that a writer starved of CPU on a loaded machine keeps it, short enough to wait for.
LEASE_TICKS = 8
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
def services(moto: RecordingMoto, tmp_path: Any) -> Iterator[Callable[..., list[Service]]]:
    """Start n processes one after the other (the first takes the lease); all are stopped at the end."""
    with ExitStack() as stack:
        started: list[Service] = []

        def start(count: int, lease_ticks: int = LEASE_TICKS) -> list[Service]:
            for _ in range(count):
                key = f"PROCESS{len(started) + 1}"
                env = {
                    "AWS_ACCESS_KEY_ID": key,
                    "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_REGION": "us-east-2",
                    "AWS_ENDPOINT_URL_DYNAMODB": moto.endpoint,
                    "DYNAMODB_ENABLED": "true",
                    "DYNAMODB_LEASE_TICKS": str(lease_ticks),
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


def writing(service: Service) -> bool:
    """Whether the process holds the lease and its last sync succeeded (a successor's first sync reads every table)."""
    status = service.dynamodb()
    return status["role"] == "writer" and status["last_sync_result"] == "ok"


def readers_agree_on(writer: Service, readers: list[Service]) -> bool:
    holder = writer.dynamodb()["process_id"]
    return all(r.dynamodb()["role"] == "reader" and r.dynamodb()["lease_holder"] == holder for r in readers)


def the_writer(candidates: list[Service]) -> Service | None:
    writers = [service for service in candidates if service.dynamodb()["role"] == "writer"]
    return writers[0] if len(writers) == 1 else None


def assert_final_tables(moto: RecordingMoto, writer: Service, others: list[Service]) -> None:
    """Stop every process, the writer last: its last sync leaves the tables equal to its final snapshot."""
    service_stats = stats(writer.base)
    for service in [*others, writer]:
        if service.process.poll() is None:
            service.process.terminate()
            service.process.wait(timeout=30)
    reader = moto.client()
    points = [point for point in table_items(reader, "prism-metrics") if point["timestamp"] != 0]
    epoch = datetime.fromisoformat(service_stats["epoch"].replace("Z", "+00:00"))
    final_tick = round((float(max(point["timestamp"] for point in points)) - epoch.timestamp()) / INTERVAL)
    assert final_tick >= service_stats["tick"]
    generation = dg.new_generation(
        counts=service_stats["counts"], interval=INTERVAL, now=epoch, seed=service_stats["seed"], epoch=epoch
    )
    final = dg.compute_snapshot(generation, final_tick)
    tables = scan_entities(reader)
    for kind in dg.ENTITY_KINDS:
        assert tables[kind] == {item["id"]: as_api_json(item) for item in final.items[kind]}, kind


def assert_one_writer_at_a_time(log: list[Received]) -> None:
    """Every item write arrived from the process holding the lease at that moment of the log."""
    wrong = writes_by_non_holders(log)
    assert not wrong, [(entry.seq, entry.sender) for entry in wrong]


def kpi_times(log: list[Received], sender: str) -> list[float]:
    """Times of the KPI points a process wrote."""
    return [
        float(request["PutRequest"]["Item"]["timestamp"]["N"])
        for entry in log
        if entry.sender == sender and entry.landed
        for table, request in entry.item_requests()
        if table == "prism-metrics"
    ]


def assert_kpis_handed_over(log: list[Received], old: Service, new: Service) -> None:
    """The successor's KPI points reach back to the last one its predecessor wrote: no tick between is lost."""
    assert min(kpi_times(log, new.key)) <= max(kpi_times(log, old.key))


def settled(services: Callable[..., list[Service]], count: int) -> tuple[Service, list[Service]]:
    """Start `count` processes and let the writer tick three times once the readers agree it holds the lease."""
    writer, *readers = services(count)
    wait_for(lambda: readers_agree_on(writer, readers))
    wait_ticks(writer, 3)
    return writer, readers


def assert_handed_over(
    moto: RecordingMoto, old: Service, new: Service, bystanders: list[Service], hands: list[str | None]
) -> None:
    """One writer at a time, the lease's last changes of hands (keys, None for handed back), no KPI tick lost
    from the old writer to the new one; then the tables end as the new writer's final snapshot."""
    log = moto.received()
    assert_one_writer_at_a_time(log)
    assert [owner for _, owner in takings(log)][-len(hands) :] == hands
    assert_kpis_handed_over(log, old, new)
    assert_final_tables(moto, new, bystanders)


def test_three_processes_write_each_change_once_as_one_would(
    moto: RecordingMoto, services: Callable[..., list[Service]]
) -> None:
    # A long lease: on a loaded machine a writer starved of CPU for a short one would (rightly) be replaced.
    writer, *readers = services(3, lease_ticks=40)
    wait_for(lambda: readers_agree_on(writer, readers))
    since = moto.mark()
    wait_ticks(writer, 10)
    log = moto.received(since)
    writes = [entry for entry in log if entry.writes_items]
    assert writes
    assert {entry.operation for entry in writes} == {"TransactWriteItems"}  # fenced by the lease, by default
    assert all(entry.landed for entry in writes), [(e.status, e.answer) for e in writes if not e.landed]
    assert {entry.sender for entry in writes} == {writer.key}
    assert {entry.sender for entry in log if entry.on_lease} <= {writer.key}  # readers only read the lease
    puts: Counter[tuple[str, str, str]] = Counter()
    for entry in writes:
        for table, request in entry.item_requests():
            if "DeleteRequest" in request:  # a closed lead or a churned client leaves its table
                puts[(table, request["DeleteRequest"]["Key"]["id"]["S"], "deleted")] += 1
                continue
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
    moto: RecordingMoto, services: Callable[..., list[Service]]
) -> None:
    writer, (reader,) = settled(services, 2)
    writer.process.terminate()
    writer.process.wait(timeout=30)  # uvicorn's command line re-raises the signal once it has shut down
    wait_for(lambda: writing(reader))
    wait_ticks(reader, 3)
    log = moto.received()
    handed_back = takings(log)[-2][0]
    assert max(entry.seq for entry in log if entry.sender == writer.key and entry.writes_items) < handed_back
    assert reader.dynamodb()["lease_token"] == 2
    assert_handed_over(moto, writer, reader, [], hands=[writer.key, None, reader.key])  # handed back, then taken


def test_sigkill_of_the_writer_gives_exactly_one_successor(
    moto: RecordingMoto, services: Callable[..., list[Service]]
) -> None:
    writer, others = settled(services, 3)
    writer.process.kill()
    writer.process.wait(timeout=30)
    wait_for(lambda: the_writer(others) is not None)
    successor = the_writer(others)
    assert successor is not None
    (bystander,) = [service for service in others if service is not successor]
    wait_for(lambda: writing(successor))
    wait_ticks(successor, 3)
    assert bystander.dynamodb()["role"] == "reader"
    assert bystander.dynamodb()["lease_holder"] == successor.dynamodb()["process_id"]
    # It died holding the lease: nobody handed it back.
    assert_handed_over(moto, writer, successor, [bystander], hands=[writer.key, successor.key])


def test_dynamodb_down_and_back_during_a_hand_over(moto: RecordingMoto, services: Callable[..., list[Service]]) -> None:
    writer, (reader,) = settled(services, 2)
    moto.stop()
    writer.process.terminate()  # its last sync and its hand-back fail: the lease runs out by itself
    writer.process.wait(timeout=30)
    wait_ticks(reader, 3)
    assert reader.dynamodb()["role"] == "reader"
    moto.start()
    wait_for(lambda: writing(reader))
    wait_ticks(reader, 3)
    assert_handed_over(moto, writer, reader, [], hands=[writer.key, reader.key])


def test_a_paused_writer_writes_nothing_after_it_wakes(
    moto: RecordingMoto, services: Callable[..., list[Service]]
) -> None:
    writer, (reader,) = settled(services, 2)
    # The worst moment for a pause: the writer's next item write has passed its last lease check and is on its
    # way. The network holds it until another process has taken the lease and written, then lets it arrive.
    in_flight = moto.hold(writer.key, "TransactWriteItems")
    assert in_flight.arrived.wait(EVENTUALLY)
    os.kill(writer.process.pid, signal.SIGSTOP)
    try:
        wait_for(lambda: writing(reader))
        wait_ticks(reader, 3)
        in_flight.released.set()
        wait_for(lambda: late_writes(moto.received(), writer) != [])
    finally:
        in_flight.released.set()
        os.kill(writer.process.pid, signal.SIGCONT)
    wait_for(lambda: writer.dynamodb()["role"] == "reader")
    wait_ticks(writer, 2 * LEASE_TICKS)
    assert writer.dynamodb()["lease_holder"] == reader.dynamodb()["process_id"]
    log = moto.received()
    assert takings(log)[-1][1] == reader.key
    arrived_late = late_writes(log, writer)
    assert arrived_late[0].body == in_flight.body  # the write held in flight arrived after the taking
    refused = arrived_late[0]
    assert refused.cancellation_reasons[:1] == ["ConditionalCheckFailed"], (refused.status, refused.answer)
    assert not [entry for entry in late_sent(log, writer) if entry.landed]  # nothing it sent since was written
    assert not [entry for entry in late_sent(log, writer) if entry.on_lease and entry.status == 200]
    assert writes_by_non_holders(log) == []
    assert writer.dynamodb()["consecutive_failures"] == 0  # losing the lease is no outage of DynamoDB
    assert_final_tables(moto, reader, [writer])


def late_sent(log: list[Received], old: Service) -> list[Received]:
    """What a process sent that reached moto after the lease's last change of hands."""
    taken = takings(log)[-1][0]
    return [entry for entry in log if entry.sender == old.key and entry.seq > taken]


def late_writes(log: list[Received], old: Service) -> list[Received]:
    """The item writes of a process that reached moto after the lease's last change of hands."""
    return [entry for entry in late_sent(log, old) if entry.writes_items]
