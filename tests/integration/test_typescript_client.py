"""The OpenAPI document generates a TypeScript client that compiles, lints clean, and describes every answer.

Against the live app (uvicorn in a subprocess): openapi-typescript makes `prism.d.ts` from `/openapi.json`,
`tsc --strict --noEmit` checks `clients/typescript/example.ts` against it (and fails on a copy with a
deliberate type error), Redocly's recommended rules find no error, and the example, run with tsx, prints
each answer, which must match the document's schema for its operation.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.support.servers import PROJECT, running_service

FOLDER = PROJECT / "clients" / "typescript"
DOCUMENT_URI = "urn:prism:openapi"


def run(
    command: list[str], cwd: Path, timeout: float = 180, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False, env=env)


@pytest.fixture(scope="session")
def node_bin() -> Path:
    """`npm ci` once per session in clients/typescript; the folder of its tools."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed (.ci/run installs them from Debian)")
    version = run(["node", "--version"], FOLDER).stdout.strip().lstrip("v")
    if tuple(int(part) for part in version.split(".")[:2]) < (20, 19):
        pytest.skip(f"node {version} is too old: the pinned Redocly CLI and openapi-ts need 20.19 or newer")
    installed = run(["npm", "ci", "--no-audit", "--no-fund"], FOLDER, timeout=600)
    assert installed.returncode == 0, installed.stderr
    return FOLDER / "node_modules" / ".bin"


@pytest.fixture(scope="module")
def service() -> Iterator[str]:
    with running_service({"UPDATE_INTERVAL_SECONDS": "1"}) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def project(node_bin: Path, service: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example project with `prism.d.ts` generated from the live app."""
    folder = tmp_path_factory.mktemp("typescript")
    for name in ("example.ts", "sdk-example.ts", "tsconfig.json", "tsconfig.sdk.json", "package.json"):
        shutil.copy(FOLDER / name, folder / name)
    generated = run([str(node_bin / "openapi-typescript"), f"{service}/openapi.json", "-o", "prism.d.ts"], folder)
    assert generated.returncode == 0, generated.stderr
    sdk = run([str(node_bin / "openapi-ts"), "-i", f"{service}/openapi.json", "-o", "generated"], folder)
    assert sdk.returncode == 0, sdk.stdout + sdk.stderr
    return folder


def type_check(node_bin: Path, folder: Path, config: str = "tsconfig.json") -> subprocess.CompletedProcess[str]:
    return run([str(node_bin / "tsc"), "--strict", "--noEmit", "-p", str(folder / config)], folder)


def test_the_example_compiles_against_the_generated_types(node_bin: Path, project: Path) -> None:
    checked = type_check(node_bin, project)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def node_env(node_bin: Path, service: str, **extra: str) -> dict[str, str]:
    return {"PATH": f"{node_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}", "PRISM_URL": service, **extra}


def test_a_full_generated_client_compiles_and_answers(node_bin: Path, project: Path, service: str) -> None:
    """@hey-api/openapi-ts writes one function per operation id; the SDK example compiles and runs."""
    sdk = (project / "generated" / "sdk.gen.ts").read_text()
    for operation_id in ("listClients", "getClientHistory", "getHistory", "streamEvents", "generateReport"):
        assert f"export const {operation_id} = " in sdk
    checked = type_check(node_bin, project, "tsconfig.sdk.json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    ran = run([str(node_bin / "tsx"), "sdk-example.ts"], project, timeout=120, env=node_env(node_bin, service))
    assert ran.returncode == 0, ran.stderr
    assert "clients, tick" in ran.stdout


def test_a_type_error_in_a_copy_of_the_example_fails(node_bin: Path, project: Path, tmp_path: Path) -> None:
    for name in ("tsconfig.json", "package.json", "prism.d.ts"):
        shutil.copy(project / name, tmp_path / name)
    source = (project / "example.ts").read_text()
    wrong = 'const atRisk: number = clients.filter((client) => client.status === "At Risk").length;'
    assert wrong in source
    # "Churned" is not one of a client's statuses, and a status is no number.
    broken = source.replace(wrong, 'const atRisk: number = clients[0]?.status ?? "Churned";')
    (tmp_path / "example.ts").write_text(broken)
    checked = type_check(node_bin, tmp_path)
    assert checked.returncode != 0
    assert "example.ts" in checked.stdout, checked.stdout
    assert "error TS" in checked.stdout, checked.stdout


def test_the_document_lints_clean(node_bin: Path, service: str) -> None:
    linted = run([str(node_bin / "redocly"), "lint", "--config", "redocly.yaml", f"{service}/openapi.json"], FOLDER)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert "error" not in linted.stdout.lower().replace("0 errors", ""), linted.stdout


def pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def response_schema(document: dict[str, Any], operation_id: str) -> str:
    """The `$ref` of the success schema of an operation, inside the document."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if operation["operationId"] == operation_id:
                content = operation["responses"]["200"]["content"]
                media = "application/json" if "application/json" in content else next(iter(content))
                return f"{DOCUMENT_URI}#/" + pointer(
                    "paths", path, method, "responses", "200", "content", media, "schema"
                )
    raise AssertionError(f"no operation {operation_id}")


def test_every_answer_of_the_example_is_what_its_type_says(node_bin: Path, project: Path, service: str) -> None:
    document = httpx.get(f"{service}/openapi.json").json()
    registry: Registry[Any] = Registry().with_resource(
        DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    ran = run(
        [str(node_bin / "tsx"), "example.ts"], project, timeout=120, env=node_env(node_bin, service, PRISM_EVENTS="2")
    )
    assert ran.returncode == 0, ran.stderr
    answers = [json.loads(line) for line in ran.stdout.splitlines()]
    seen = set()
    for answer in answers:
        validator = Draft202012Validator({"$ref": response_schema(document, answer["operationId"])}, registry=registry)
        errors = [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(answer["body"])]
        assert not errors, (answer["path"], errors[:5])
        seen.add(answer["operationId"])
    kinds = ["Client", "License", "Lead", "Technician", "Department", "Vendor", "Contract"]
    plural = ["Clients", "Licenses", "Leads", "Technicians", "Departments", "Vendors", "Contracts"]
    expected = {f"list{p}" for p in plural} | {f"get{k}" for k in kinds} | {f"get{k}History" for k in kinds}
    assert expected | {"getStats", "getHistory", "streamEvents"} <= seen
    # The schema can fail: an answer that is not what the type says is caught.
    wrong = Draft202012Validator({"$ref": response_schema(document, "getClient")}, registry=registry)
    assert not wrong.is_valid({**answers[0]["body"][0], "status": "Churned"})
