"""The HTTP contract held still while the code moved: the OpenAPI document and the shape of every answer.

`tests/data/openapi.json` is the document as it was recorded; an intended change of the contract updates
it in the same commit (regenerate it with `python -m tests.api.test_contract_unchanged`).
"""

from __future__ import annotations

import json

from tests.support import DATA, current_document

RECORDED = DATA / "openapi.json"


def test_the_openapi_document_is_the_recorded_one() -> None:
    recorded = json.loads(RECORDED.read_text())
    current = json.loads(json.dumps(current_document()))
    assert sorted(current["paths"]) == sorted(recorded["paths"])
    for path, operations in recorded["paths"].items():
        assert current["paths"][path] == operations, path
    assert current == recorded


if __name__ == "__main__":
    RECORDED.write_text(json.dumps(current_document(), indent=1, sort_keys=True) + "\n")
