"""PDF reports: time per report and page type, PDF size, and throughput under load.

1. In process: for each page type, the median time of the first report of a tick (charts
   drawn) and of the next ones in the same tick (charts reused), over several ticks, and the
   median PDF size.
2. Over HTTP against the real service (uvicorn in a subprocess): reports per second with
   4 requests always in flight, and the latency of the list endpoints meanwhile, next to
   their latency with no reports running, taken once the server process is quiet (its CPU time,
   from /proc, growing by less than 2% of a core over 2.5 s: start-up backfill and warm-up over;
   if it never goes quiet within 120 s it says so and measures anyway). Run at the default 30 s
   tick and at a 1 s tick (almost every report then draws its charts).
3. With `pdftoppm` installed, page 1 of each report as a PNG in a temporary folder, to look at.

The load average is printed beside the figures (other work on the machine skews them).

    .venv/bin/python -m benchmarks.bench_reports [--ticks 7] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

import report_generator as rg
from benchmarks.machine import load_average, wait_until_quiet
from models import ReportRequest
from simulator import Simulator
from tests.support import make_settings
from tests.support.servers import free_port, wait_until_healthy

PROJECT = Path(__file__).resolve().parent.parent

LIST_PATHS = ("/api/clients", "/api/licenses", "/api/leads", "/api/technicians", "/api/vendors")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else 0.0


class PdfSamples:
    """Timings and sizes of one page type's reports."""

    def __init__(self) -> None:
        self.first: list[float] = []
        self.later: list[float] = []
        self.sizes: list[int] = []
        self.pdf = b""


def in_process(ticks: int, reports_dir: Path) -> dict[rg.PageType, bytes]:
    """Time first and later reports of each page type over several ticks; return one PDF of each."""
    simulator = Simulator(make_settings())
    start = simulator.snapshot.tick

    def render(page_type: rg.PageType, tick: int) -> tuple[float, bytes]:
        began = time.perf_counter()
        report = rg.create_report(
            ReportRequest(pageType=page_type),
            snapshot=simulator.snapshot_at(tick),
            snapshot_at=simulator.snapshot_at,
            reports_dir=reports_dir,
            keep=50,
        )
        return time.perf_counter() - began, report.pdf

    began = time.perf_counter()
    render("client-profitability", start - 10_000)  # imports ReportLab and matplotlib, loads the fonts
    print(f"first report of the process (imports): {_ms(time.perf_counter() - began)}")
    samples: dict[rg.PageType, PdfSamples] = {page_type: PdfSamples() for page_type in rg.PAGE_TYPES}
    for offset in range(ticks):
        tick = start - offset * 7  # ticks not seen before: empty per-snapshot caches
        for page_type in rg.PAGE_TYPES:
            seconds, pdf = render(page_type, tick)
            samples[page_type].first.append(seconds)
            samples[page_type].sizes.append(len(pdf))
            for _ in range(3):
                seconds, pdf = render(page_type, tick)
                samples[page_type].later.append(seconds)
            samples[page_type].pdf = pdf
    print(f"\nmedian over {ticks} ticks          first in tick   later in tick   PDF size")
    for page_type, sample in samples.items():
        print(
            f"  {page_type:22} {_ms(statistics.median(sample.first))}    {_ms(statistics.median(sample.later))}"
            f"    {statistics.median(sample.sizes) / 1024:5.0f} KB"
        )
    firsts = [value for sample in samples.values() for value in sample.first]
    laters = [value for sample in samples.values() for value in sample.later]
    sizes = [value for sample in samples.values() for value in sample.sizes]
    print(
        f"  {'all page types':22} {_ms(statistics.median(firsts))}    {_ms(statistics.median(laters))}"
        f"    {statistics.median(sizes) / 1024:5.0f} KB (largest {max(sizes) / 1024:.0f} KB)"
    )
    return {page_type: sample.pdf for page_type, sample in samples.items()}


async def _poll_lists(client: httpx.AsyncClient, stop: asyncio.Event, latencies: list[float]) -> None:
    index = 0
    while not stop.is_set():
        began = time.perf_counter()
        response = await client.get(LIST_PATHS[index % len(LIST_PATHS)])
        latencies.append(time.perf_counter() - began)
        response.raise_for_status()
        index += 1
        await asyncio.sleep(0.01)


async def _keep_rendering(client: httpx.AsyncClient, worker: int, stop: asyncio.Event, latencies: list[float]) -> None:
    index = worker
    while not stop.is_set():
        page_type = rg.PAGE_TYPES[index % len(rg.PAGE_TYPES)]
        began = time.perf_counter()
        response = await client.post("/api/generate-report", json={"pageType": page_type}, timeout=60)
        latencies.append(time.perf_counter() - began)
        response.raise_for_status()
        index += 1


async def _load(base_url: str, pid: int, seconds: float, concurrency: int) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        for page_type in rg.PAGE_TYPES:  # warm up: imports and first charts
            (await client.post("/api/generate-report", json={"pageType": page_type}, timeout=60)).raise_for_status()
        # The start-up backfill of the history runs for seconds after /health answers: not an idle server.
        print(f"  {await asyncio.to_thread(wait_until_quiet, pid)}")
        print(f"  {load_average()}")
        quiet: list[float] = []
        stop = asyncio.Event()
        poller = asyncio.create_task(_poll_lists(client, stop, quiet))
        await asyncio.sleep(min(3.0, seconds / 2))
        stop.set()
        await poller

        busy: list[float] = []
        reports: list[float] = []
        stop = asyncio.Event()
        tasks = [asyncio.create_task(_keep_rendering(client, worker, stop, reports)) for worker in range(concurrency)]
        poller = asyncio.create_task(_poll_lists(client, stop, busy))
        began = time.perf_counter()
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.gather(*tasks, poller)
        elapsed = time.perf_counter() - began
    print(
        f"  reports/s with {concurrency} in flight: {len(reports) / elapsed:6.1f}   ({len(reports)} in {elapsed:.1f} s)"
    )
    print(f"  report latency      p50 {_ms(_percentile(reports, 0.5))}   p95 {_ms(_percentile(reports, 0.95))}")
    print(
        f"  list latency, idle  p50 {_ms(_percentile(quiet, 0.5))}   p95 {_ms(_percentile(quiet, 0.95))}"
        f"   max {_ms(max(quiet))}"
    )
    print(
        f"  list latency, busy  p50 {_ms(_percentile(busy, 0.5))}   p95 {_ms(_percentile(busy, 0.95))}"
        f"   max {_ms(max(busy))}   ({len(busy)} requests)"
    )
    print(f"  at the end of the run: {load_average()}")


@contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[tuple[str, int]]:
    """The service under uvicorn in a subprocess (its URL and process id), its log in a file (a pipe nobody reads
    would fill and stall it)."""
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "DYNAMODB_"))}
    environment.update({"DYNAMODB_ENABLED": "false", **env})
    command = [sys.executable, "-m", "uvicorn", "main:app", "--port", str(port), "--no-access-log"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=PROJECT, env=environment, stdout=output, stderr=subprocess.STDOUT)
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_until_healthy(base_url, process)
            yield base_url, process.pid
        finally:
            process.terminate()
            process.wait(timeout=15)


def over_http(seconds: float, reports_dir: Path) -> None:
    """Reports per second and list latency against uvicorn, at the default and at a 1 s tick."""
    for interval in ("30", "1"):
        env = {"UPDATE_INTERVAL_SECONDS": interval, "REPORTS_DIR": str(reports_dir), "SIMULATOR_SEED": "7"}
        print(f"\nover HTTP, tick every {interval} s:")
        with serving(env, reports_dir.parent / f"service-{interval}s.log") as (base_url, pid):
            asyncio.run(_load(base_url, pid, seconds, concurrency=4))


def first_pages(pdfs: dict[rg.PageType, bytes]) -> None:
    """Page 1 of each report as a PNG, for a look."""
    if shutil.which("pdftoppm") is None:
        print("\npdftoppm not found (apt-get install poppler-utils): no page images")
        return
    folder = Path(tempfile.mkdtemp(prefix="prism-report-pages-"))
    for page_type, pdf in pdfs.items():
        source = folder / f"{page_type}.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", source, folder / page_type], check=True)
    print(f"\npage 1 of each report: {folder}/*-1.png")


def main() -> None:
    """Run the three parts and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ticks", type=int, default=7, help="ticks to time the first report of (default 7)")
    parser.add_argument("--seconds", type=float, default=10, help="length of each load run (default 10)")
    options = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    print(load_average())
    with tempfile.TemporaryDirectory(prefix="prism-bench-reports-") as scratch:
        pdfs = in_process(options.ticks, Path(scratch) / "in-process")
        over_http(options.seconds, Path(scratch) / "served")
    first_pages(pdfs)
    print(f"\nat the end: {load_average()}")


if __name__ == "__main__":
    main()
