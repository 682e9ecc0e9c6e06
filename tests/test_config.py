"""Settings: defaults, the .env file, and a clear one-line refusal of every bad value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import Settings, SettingsError, load_settings
from tests.servers import PROJECT


def test_defaults_are_those_of_the_design() -> None:
    settings = load_settings(_env_file=None)
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.update_interval_seconds == 30
    assert settings.simulator_seed is None
    assert settings.entity_counts == {
        "clients": 20,
        "licenses": 30,
        "leads": 25,
        "technicians": 15,
        "departments": 6,
        "vendors": 15,
        "contracts": 20,
    }
    assert settings.aws_region == "us-east-2"
    assert settings.dynamodb_enabled == "auto"
    assert settings.dynamodb_table_prefix == "prism-"
    assert settings.dynamodb_create_tables is True
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


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("UPDATE_INTERVAL_SECONDS", "0"),
        ("UPDATE_INTERVAL_SECONDS", "soon"),
        ("PORT", "70000"),
        ("CLIENT_COUNT", "-1"),
        ("LEAD_COUNT", "100001"),
        ("DYNAMODB_ENABLED", "maybe"),
        ("REPORTS_KEEP", "0"),
        ("LOG_LEVEL", "LOUD"),
        ("SIMULATOR_SEED", "-5"),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_line_naming_it(name: str, value: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DYNAMODB_"))}
    env[name] = value
    result = subprocess.run(
        [sys.executable, "main.py"], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0]
    assert "Traceback" not in result.stderr


def test_contracts_without_vendors_are_refused() -> None:
    with pytest.raises(SettingsError, match="CONTRACT_COUNT"):
        load_settings(_env_file=None, vendor_count=0, contract_count=5)
    assert load_settings(_env_file=None, vendor_count=0, contract_count=0).contract_count == 0


def test_dotenv_example_lists_every_setting_with_its_default() -> None:
    listed = {}
    for line in (PROJECT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            listed[name] = value
    assert set(listed) == {name.upper() for name in Settings.model_fields}
    defaults = load_settings(_env_file=None)
    assert listed["UPDATE_INTERVAL_SECONDS"] == f"{defaults.update_interval_seconds:g}"
    assert listed["CLIENT_COUNT"] == str(defaults.client_count)
    assert listed["DYNAMODB_TABLE_PREFIX"] == defaults.dynamodb_table_prefix
    assert load_settings(_env_file=PROJECT / ".env.example") == defaults
