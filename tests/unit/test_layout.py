"""The house stays one a newcomer can find their way in: short modules, and doors that say where things live."""

from __future__ import annotations

import subprocess

from tests.support import PROJECT

MAX_LINES = 600
# The modules the design card names: each says in its first lines what it is and where the rest lives.
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
