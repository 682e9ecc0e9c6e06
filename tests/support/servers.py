"""Running the real service in a subprocess on a loopback port, for tests that need real HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import IO

import httpx

from tests.support import PROJECT


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def process_environment(port: int, **settings: str) -> dict[str, str]:
    """The environment of a service process on a loopback port: this one's, but no AWS or DynamoDB
    setting leaks in (DynamoDB is off unless `settings` turn it on)."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "DYNAMODB_"))}
    environment.update({"DYNAMODB_ENABLED": "false", "HOST": "127.0.0.1", "PORT": str(port)})
    environment.update(settings)
    return environment


def wait_until_healthy(
    base_url: str, process: subprocess.Popen[bytes], log: IO[bytes] | None = None, timeout: float = 15.0
) -> None:
    """Poll /health until it answers 200, failing early (with its log) if the process died."""
    wait_until_answering(f"{base_url}/health", process, log, timeout)


def wait_until_answering(
    url: str, process: subprocess.Popen[bytes], log: IO[bytes] | None = None, timeout: float = 15.0
) -> None:
    """Poll a URL until it answers 200, failing early (with the process's log) if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = b""
            if log is not None:
                log.seek(0)
                output = log.read()
            raise RuntimeError(f"server exited with {process.returncode}: {output.decode(errors='replace')}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer 200 in {timeout} s")


@contextmanager
def running_service(env: Mapping[str, str], *, port: int | None = None, args: tuple[str, ...] = ()) -> Iterator[str]:
    """Serve the app with uvicorn in a subprocess; yields its base URL and stops it afterwards."""
    with service_process(env, port=port, args=args) as (base_url, _):
        yield base_url


@contextmanager
def service_process(
    env: Mapping[str, str], *, port: int | None = None, args: tuple[str, ...] = (), healthy_within: float = 15.0
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Serve the app with uvicorn in a subprocess; yields its base URL and the process, and stops it afterwards."""
    port = port or free_port()
    environment = process_environment(port, **env)
    command = [sys.executable, "-m", "uvicorn", "main:app", "--host", "127.0.0.1", "--port", str(port), *args]
    # The log goes to a file: a pipe nobody reads would stall the server once it fills.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, cwd=PROJECT, env=environment, stdout=log, stderr=subprocess.STDOUT)
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(base_url, process, log, timeout=healthy_within)
            yield base_url, process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)  # a test may have left it paused
                process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
