"""Settings: every knob of the service, read from the environment and an optional `.env`."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from rules import ENTITY_KINDS, SINGULAR, EntityKind

MAX_ENTITY_COUNT = 100_000

Count = Annotated[int, Field(ge=0, le=MAX_ENTITY_COUNT)]

_TRUE_WORDS = {"true", "1", "yes", "on"}
_FALSE_WORDS = {"false", "0", "no", "off"}
_AWS_CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


class Settings(BaseSettings):
    """The service's configuration; field names are the environment variable names."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        frozen=True,
    )

    # A blank HOST would make uvicorn listen on every interface instead of the default loopback.
    host: str = Field("127.0.0.1", min_length=1, description="Address `python main.py` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `python main.py` listens on.")
    update_interval_seconds: float = Field(
        30.0, gt=0, le=86_400, description="Seconds between two ticks of the simulation."
    )
    simulator_seed: int | None = Field(
        None, ge=0, lt=2**63, description="Fixes the generation's seed; random when unset."
    )
    simulator_epoch: datetime | None = Field(
        None,
        description="Time of tick 0. Defaults to a fixed instant when the seed is set, "
        "otherwise to the start of the process.",
    )
    simulated_latency_ms: int = Field(
        0, ge=0, le=10_000, description="Delay added to every GET, to rehearse slow networks."
    )

    client_count: Count = 20
    license_count: Count = 30
    lead_count: Count = 25
    technician_count: Count = 15
    department_count: Count = 6
    vendor_count: Count = 15
    contract_count: Count = 20

    aws_region: str = Field("us-east-2", min_length=1)
    aws_endpoint_url_dynamodb: str | None = None
    dynamodb_enabled: Literal["true", "false", "auto"] = "auto"
    dynamodb_table_prefix: str = Field("prism-", pattern=r"^[A-Za-z0-9_.-]{0,200}$")
    dynamodb_create_tables: bool = True
    dynamodb_lease_ticks: int = Field(
        4,
        ge=2,
        le=1000,
        description="Ticks the DynamoDB writer's lease lasts unrenewed: with several processes, the time a dead "
        "writer's successor waits before it takes over.",
    )
    dynamodb_fenced_writes: bool = Field(
        True,
        description="Write items in transactions fenced by the writer's lease, so that DynamoDB refuses a late write "
        "of a writer that lost it (twice the write units of batches); false writes batches, unfenced.",
    )

    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["*"])
    api_key: SecretStr | None = Field(None, description="When set, POST endpoints need it in `X-API-Key`.")
    reports_dir: Path = Path("reports")
    reports_keep: int = Field(100, ge=1, le=100_000)
    log_level: Literal["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    access_log: bool = False

    @field_validator("dynamodb_enabled", mode="before")
    @classmethod
    def _tristate(cls, value: object) -> object:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            word = value.strip().lower()
            if word in _TRUE_WORDS:
                return "true"
            if word in _FALSE_WORDS:
                return "false"
            return word
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("api_key", "aws_endpoint_url_dynamodb", "simulator_seed", "simulator_epoch", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("simulator_epoch")
    @classmethod
    def _epoch_in_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @model_validator(mode="after")
    def _contracts_need_vendors(self) -> Settings:
        if self.contract_count > 0 and self.vendor_count == 0:
            raise ValueError("CONTRACT_COUNT needs VENDOR_COUNT of at least 1 (contracts belong to vendors)")
        return self

    @property
    def entity_counts(self) -> dict[EntityKind, int]:
        """Configured number of items per entity, keyed by the entity's plural name."""
        return {kind: getattr(self, f"{SINGULAR[kind]}_count") for kind in ENTITY_KINDS}

    @property
    def interval_label(self) -> str:
        """The tick interval as `/` shows it: `30s`, `0.5s`."""
        return f"{self.update_interval_seconds:g}s"

    @cached_property
    def dynamodb_active(self) -> bool:
        """Whether DynamoDB sync is on, resolving `auto` from the environment."""
        if self.dynamodb_enabled != "auto":
            return self.dynamodb_enabled == "true"
        return self.aws_endpoint_url_dynamodb is not None or any(
            os.environ.get(name) for name in _AWS_CREDENTIAL_VARIABLES
        )


class SettingsError(Exception):
    """A setting has a bad value; the message is one line naming it."""


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning a validation failure into one readable line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(describe_error(exc)) from None


def describe_error(exc: ValidationError) -> str:
    """One line naming each bad setting and what is wrong with it."""
    parts = []
    for error in exc.errors():
        name = "_".join(str(part) for part in error["loc"] if isinstance(part, str)).upper()
        message = error["msg"].removeprefix("Value error, ")
        given = error.get("input")
        shown = f" (got {given!r})" if name and isinstance(given, str | int | float) else ""
        parts.append(f"{name}: {message}{shown}" if name else message)
    return "invalid setting " + "; ".join(parts)


def now_utc() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)
