"""The project installs as a package with every module in it, and the image copies all of them."""

from __future__ import annotations

import tomllib
from pathlib import Path

from tests.support.servers import PROJECT


def test_every_top_level_module_is_declared_and_the_package_is_found() -> None:
    config = tomllib.loads((PROJECT / "pyproject.toml").read_text())
    declared = set(config["tool"]["setuptools"]["py-modules"])
    assert declared == {path.stem for path in PROJECT.glob("*.py")}
    assert config["tool"]["setuptools"]["packages"]["find"]["include"] == ["prism*"]
    assert all(
        (folder / "__init__.py").exists()
        for folder in (PROJECT / "prism").rglob("*")
        if folder.is_dir() and folder.name != "__pycache__"
    )


def test_the_package_data_holds_every_file_of_the_console() -> None:
    config = tomllib.loads((PROJECT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["prism.console"]
    files = [path for path in (PROJECT / "prism" / "console").iterdir() if path.is_file() and path.suffix != ".py"]
    assert files
    assert all(any(path.match(pattern) for pattern in patterns) for path in files), files


def test_the_image_copies_the_modules_and_the_package() -> None:
    dockerfile = (PROJECT / "Dockerfile").read_text()
    assert "COPY *.py ./" in dockerfile
    assert "COPY prism ./prism" in dockerfile
    assert "pip install -r requirements.txt" in dockerfile


def test_the_locks_pin_every_dependency_exactly() -> None:
    for lock in ("requirements.txt", "requirements-dev.txt"):
        lines = [line.split("#")[0].strip() for line in Path(PROJECT / lock).read_text().splitlines()]
        pins = [line for line in lines if line]
        assert pins, lock
        assert all("==" in pin for pin in pins), lock
    runtime = {pin.split("==")[0] for pin in Path(PROJECT / "requirements.txt").read_text().split() if "==" in pin}
    assert {"fastapi", "numpy", "botocore", "starlette", "pydantic-core"} <= runtime
