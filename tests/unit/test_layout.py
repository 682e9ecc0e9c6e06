"""The house stays one a newcomer can find their way in: short modules, and doors that say where things live."""

from __future__ import annotations

import inspect
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import APIRoute

import main
from prism.api.routes import console, entities, live, management, reports, scenarios, service
from tests.support import PROJECT, make_settings

MAX_LINES = 600
# The modules the design card names: each says in its first lines what it is and where the rest lives.
ROUTE_MODULES = (console, entities, live, management, reports, scenarios, service)
DOORS = ("main.py", "config.py", "models.py", "data_generator.py", "report_generator.py", "dynamodb_client.py")


def python_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [name for name in listed.stdout.split() if (PROJECT / name).exists()]


def test_no_module_is_longer_than_a_reader_can_hold() -> None:
    lengths = {name: len((PROJECT / name).read_text().splitlines()) for name in python_files()}
    assert len(lengths) > 50  # the listing found the tree
    assert {name: lines for name, lines in lengths.items() if lines > MAX_LINES} == {}


def test_every_door_says_what_it_is() -> None:
    for door in DOORS:
        text = (PROJECT / door).read_text()
        assert text.startswith('"""'), door
        first_paragraph = text[3:].split("\n\n", 1)[0]
        assert len(first_paragraph) > 40, door


def dependency_calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from dependency_calls(sub)


def test_no_dependency_of_any_route_runs_in_the_threadpool() -> None:
    """FastAPI sends a plain-function dependency (or endpoint) through its threadpool: a thread hop per request
    that costs milliseconds once a report or a sync holds the GIL. Each is a coroutine (or async generator)
    function instead."""
    routes = [route for module in ROUTE_MODULES for route in module.router.routes if isinstance(route, APIRoute)]
    assert len(routes) > 20
    calls = {call for route in routes for call in (route.endpoint, *dependency_calls(route.dependant))}
    app = main.create_app(make_settings())
    for depends in app.router.dependencies:  # the app's own, on every route
        assert depends.dependency is not None
        calls |= {depends.dependency, *dependency_calls(get_dependant(path="/", call=depends.dependency))}
    assert len(calls) > len(routes)  # the walk found the dependencies too
    awaited = (inspect.iscoroutinefunction, inspect.isasyncgenfunction)  # an SSE endpoint is an async generator
    assert {call.__qualname__ for call in calls if not any(test(call) for test in awaited)} == set()
