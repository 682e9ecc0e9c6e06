"""Settings: defaults, the .env file, and a clear one-line refusal of every bad value."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from config import Settings, SettingsError, load_settings
from tests.support import DESIGN_COUNTS
from tests.support.servers import PROJECT, free_port, wait_until_healthy


def test_defaults_are_those_of_the_design() -> None:
    settings = load_settings(_env_file=None)
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.update_interval_seconds == 30
    assert settings.simulator_seed is None
    assert settings.entity_counts == DESIGN_COUNTS
    assert settings.aws_region == "us-east-2"
    assert settings.dynamodb_enabled == "auto"
    assert settings.dynamodb_table_prefix == "prism-"
    assert settings.dynamodb_create_tables is True
    assert settings.dynamodb_fenced_writes is True  # one writer even across pauses, at twice the write units
    assert settings.cors_origins == ["*"]
    assert settings.api_key is None
    assert (str(settings.reports_dir), settings.reports_keep) == ("reports", 100)
    assert settings.log_level == "INFO"
    assert settings.interval_label == "30s"


def test_a_dotenv_file_is_read_and_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "UPDATE_INTERVAL_SECONDS=0.5\nCLIENT_COUNT=7\nCORS_ORIGINS=https://a.example, https://b.example\n"
    )
    monkeypatch.setenv("CLIENT_COUNT", "9")
    settings = load_settings(_env_file=env_file)
    assert settings.update_interval_seconds == 0.5
    assert settings.interval_label == "0.5s"
    assert settings.client_count == 9
    assert settings.cors_origins == ["https://a.example", "https://b.example"]


BAD_SETTINGS: dict[str, tuple[str, dict[str, str]]] = {
    "interval 0": ("UPDATE_INTERVAL_SECONDS", {"UPDATE_INTERVAL_SECONDS": "0"}),
    "interval negative": ("UPDATE_INTERVAL_SECONDS", {"UPDATE_INTERVAL_SECONDS": "-30"}),
    "interval not a number": ("UPDATE_INTERVAL_SECONDS", {"UPDATE_INTERVAL_SECONDS": "soon"}),
    "blank host (every interface)": ("HOST", {"HOST": ""}),
    "port 70000": ("PORT", {"PORT": "70000"}),
    "port 0": ("PORT", {"PORT": "0"}),
    "count -1": ("CLIENT_COUNT", {"CLIENT_COUNT": "-1"}),
    "count over 100,000": ("LEAD_COUNT", {"LEAD_COUNT": "100001"}),
    "count not a number": ("VENDOR_COUNT", {"VENDOR_COUNT": "many"}),
    "contracts without vendors": ("CONTRACT_COUNT", {"VENDOR_COUNT": "0", "CONTRACT_COUNT": "5"}),
    "unknown DYNAMODB_ENABLED word": ("DYNAMODB_ENABLED", {"DYNAMODB_ENABLED": "maybe"}),
    "unknown boolean": ("DYNAMODB_CREATE_TABLES", {"DYNAMODB_CREATE_TABLES": "perhaps"}),
    "table prefix with blanks": ("DYNAMODB_TABLE_PREFIX", {"DYNAMODB_TABLE_PREFIX": "my tables"}),
    "lease of 1 tick": ("DYNAMODB_LEASE_TICKS", {"DYNAMODB_LEASE_TICKS": "1"}),
    "lease not a number": ("DYNAMODB_LEASE_TICKS", {"DYNAMODB_LEASE_TICKS": "long"}),
    "fenced writes not a boolean": ("DYNAMODB_FENCED_WRITES", {"DYNAMODB_FENCED_WRITES": "sometimes"}),
    "reports kept 0": ("REPORTS_KEEP", {"REPORTS_KEEP": "0"}),
    "log level": ("LOG_LEVEL", {"LOG_LEVEL": "LOUD"}),
    "log format": ("LOG_FORMAT", {"LOG_FORMAT": "xml"}),
    "negative seed": ("SIMULATOR_SEED", {"SIMULATOR_SEED": "-5"}),
    "epoch not a time": ("SIMULATOR_EPOCH", {"SIMULATOR_EPOCH": "yesterday"}),
    "negative latency": ("SIMULATED_LATENCY_MS", {"SIMULATED_LATENCY_MS": "-1"}),
}


@pytest.fixture(scope="module")
def refusals() -> dict[str, subprocess.CompletedProcess[str]]:
    """`python main.py` run with each bad setting, all at once (each start-up costs half a second)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DYNAMODB_"))}
    processes = {
        case: subprocess.Popen(
            [sys.executable, "main.py"],
            cwd=PROJECT,
            env={**base, **values},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for case, (_, values) in BAD_SETTINGS.items()
    }
    results = {}
    for case, process in processes.items():
        try:
            stdout, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        results[case] = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return results


@pytest.mark.parametrize("case", list(BAD_SETTINGS))
@pytest.mark.slow
def test_a_bad_setting_stops_start_up_with_one_line_naming_it(
    case: str, refusals: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    name, _ = BAD_SETTINGS[case]
    result = refusals[case]
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_bad_setting_in_the_dotenv_file_of_the_working_directory_is_named(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("# local settings\nPORT=70000\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DYNAMODB_", "PORT"))}
    result = subprocess.run(
        [sys.executable, str(PROJECT / "main.py")], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "PORT" in result.stderr
    assert "70000" in result.stderr


@pytest.mark.slow
def test_python_main_py_serves_with_the_dotenv_file_of_the_working_directory(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / ".env").write_text(f"PORT={port}\nHOST=127.0.0.1\nUPDATE_INTERVAL_SECONDS=0.5\nCLIENT_COUNT=3\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DYNAMODB_", "PORT", "HOST", "UPDATE_"))}
    env["DYNAMODB_ENABLED"] = "false"
    env.pop("CLIENT_COUNT", None)
    with (tmp_path / "server.log").open("w+b") as log:
        process = subprocess.Popen(
            [sys.executable, str(PROJECT / "main.py")], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_healthy(base, process, log)
            assert httpx.get(f"{base}/").json()["update_interval"] == "0.5s"
            assert httpx.get(f"{base}/health").json()["data_counts"]["clients"] == 3
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.mark.parametrize(
    ("host", "api_key", "warned"), [("0.0.0.0", "", True), ("0.0.0.0", "k3y", False), ("127.0.0.1", "", False)]
)
@pytest.mark.slow
def test_listening_beyond_loopback_without_an_api_key_is_said_loudly(
    tmp_path: Path, host: str, api_key: str, warned: bool
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DYNAMODB_", "PORT", "HOST", "API_KEY"))}
    env.update({"DYNAMODB_ENABLED": "false", "HOST": host, "PORT": str(port), "API_KEY": api_key})
    with (tmp_path / "server.log").open("w+b") as log:
        process = subprocess.Popen(
            [sys.executable, str(PROJECT / "main.py")], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_until_healthy(f"http://127.0.0.1:{port}", process, log)
        finally:
            process.terminate()
            process.wait(timeout=10)
        log.seek(0)
        said = log.read().decode()
    line = f"WARNING prism: listening on {host} without API_KEY: anyone who reaches port {port} can regenerate"
    assert (line in said) is warned, said


def test_importing_main_reads_no_settings_and_rewires_no_logging(tmp_path: Path) -> None:
    # A bad .env in the working directory: importing main must not read it; asking for main.app must.
    (tmp_path / ".env").write_text("UPDATE_INTERVAL_SECONDS=never\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DYNAMODB_", "UPDATE_"))}
    env["PYTHONPATH"] = str(PROJECT)
    code = (
        "import logging, main; "
        "assert logging.getLogger().handlers == [], logging.getLogger().handlers; "
        "print('imported'); main.app"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.stdout.strip() == "imported", done.stderr
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip().splitlines()[0]]
    assert "UPDATE_INTERVAL_SECONDS" in done.stderr


def test_contracts_without_vendors_are_refused() -> None:
    with pytest.raises(SettingsError, match="CONTRACT_COUNT"):
        load_settings(_env_file=None, vendor_count=0, contract_count=5)
    assert load_settings(_env_file=None, vendor_count=0, contract_count=0).contract_count == 0


# The settings table of DESIGN.md (the AWS credentials are boto3's own, listed commented out).
DESIGN_SETTINGS = [
    "HOST",
    "PORT",
    "UPDATE_INTERVAL_SECONDS",
    "SIMULATOR_SEED",
    "CLIENT_COUNT",
    "LICENSE_COUNT",
    "LEAD_COUNT",
    "TECHNICIAN_COUNT",
    "DEPARTMENT_COUNT",
    "VENDOR_COUNT",
    "CONTRACT_COUNT",
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "DYNAMODB_ENABLED",
    "DYNAMODB_TABLE_PREFIX",
    "DYNAMODB_CREATE_TABLES",
    "CORS_ORIGINS",
    "API_KEY",
    "REPORTS_DIR",
    "REPORTS_KEEP",
    "LOG_LEVEL",
]


def test_dotenv_example_lists_every_setting_with_its_default_and_a_comment() -> None:
    text = (PROJECT / ".env.example").read_text()
    listed = {}
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip()]
        settings_lines = [line for line in lines if not line.startswith("#")]
        if settings_lines:
            assert lines[0].startswith("#"), f"no comment explains {settings_lines[0]}"
        for line in settings_lines:
            name, _, value = line.partition("=")
            assert name not in listed, name
            listed[name] = value
    assert set(listed) == {name.upper() for name in Settings.model_fields}
    for name in DESIGN_SETTINGS:
        assert re.search(rf"^(# )?{name}=", text, re.MULTILINE), f"{name} is not in .env.example"
    defaults = load_settings(_env_file=None)
    assert listed["UPDATE_INTERVAL_SECONDS"] == f"{defaults.update_interval_seconds:g}"
    assert listed["CLIENT_COUNT"] == str(defaults.client_count)
    assert listed["DYNAMODB_TABLE_PREFIX"] == defaults.dynamodb_table_prefix
    assert load_settings(_env_file=PROJECT / ".env.example") == defaults
