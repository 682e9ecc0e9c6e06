"""What the machine and a server were doing while a benchmark ran: load average, a process's CPU time and
memory, and waiting for a server to go quiet."""

from __future__ import annotations

import os
import time
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages and the core count, for printing beside figures."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) a process has used, from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may hold spaces and parentheses; the fields after its last ")" do not.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MB, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_until_quiet(pid: int, *, share: float = 0.02, window: float = 2.5, deadline: float = 120.0) -> str:
    """Wait until the process uses less than `share` of a core over `window` seconds; say how it went."""
    began = time.monotonic()
    used = float("nan")
    while time.monotonic() - began < deadline:
        before = cpu_seconds(pid)
        time.sleep(window)
        used = (cpu_seconds(pid) - before) / window
        if used < share:
            return f"server quiet after {time.monotonic() - began:.1f} s ({used:.1%} of a core over {window:g} s)"
    return (
        f"server NEVER went quiet within {deadline:g} s (last {window:g} s window: {used:.1%} of a core, "
        f"threshold {share:.0%}); figures below were taken while it was busy"
    )
