"""Selecting from an entity list: equality filters, sorting and paging, checked against the model."""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from data_generator import Item
from models import ENTITY_MODELS
from rules import EntityKind

# Query parameters with a meaning of their own; every other one is a filter on a field.
RESERVED_PARAMETERS = frozenset({"at", "limit", "offset", "sort", "order", "delay", "fail"})


class QueryError(ValueError):
    """A query parameter that names no field or holds a value of the wrong type."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message


def _scalar_type(annotation: Any) -> type | None:
    """The Python type a scalar field holds (str, int, float, bool), or None for lists and objects."""
    if typing.get_origin(annotation) is Literal:
        return str
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return None
    return annotation if annotation in (str, int, float, bool) else None


def scalar_fields(kind: EntityKind) -> dict[str, type]:
    """The fields of an entity that can be filtered and sorted on, with their types."""
    model = ENTITY_MODELS[kind]
    fields = {}
    for name, info in model.model_fields.items():
        scalar = _scalar_type(info.annotation)
        if scalar is not None:
            fields[name] = scalar
    return fields


SCALAR_FIELDS: dict[EntityKind, dict[str, type]] = {kind: scalar_fields(kind) for kind in ENTITY_MODELS}

# The words a field with a fixed vocabulary (a Literal) can hold: any other word is a typo, not an empty match.
VOCABULARIES: dict[str, dict[str, tuple[str, ...]]] = {
    kind: {
        name: typing.get_args(info.annotation)
        for name, info in model.model_fields.items()
        if typing.get_origin(info.annotation) is Literal
    }
    for kind, model in ENTITY_MODELS.items()
}


def _parse(kind: EntityKind, field: str, raw: str) -> Any:
    expected = SCALAR_FIELDS[kind][field]
    if expected is str:
        words = VOCABULARIES[kind].get(field)
        if words is not None and raw not in words:
            raise QueryError(field, f"{field} is one of {', '.join(repr(w) for w in words)}, not {raw!r}")
        return raw
    if expected is bool:
        word = raw.strip().lower()
        if word in ("true", "1"):
            return True
        if word in ("false", "0"):
            return False
        raise QueryError(field, f"{field} is true or false, not {raw!r}")
    try:
        number = float(raw)
    except ValueError:
        raise QueryError(field, f"{field} is a number, not {raw!r}") from None
    if expected is int and not number.is_integer():
        raise QueryError(field, f"{field} is a whole number, not {raw!r}")
    return number


@dataclass(frozen=True, slots=True)
class ListQuery:
    """What a request asks of a list: filters, a sort and a page."""

    filters: tuple[tuple[str, Any], ...] = ()
    sort: str | None = None
    descending: bool = False
    offset: int = 0
    limit: int | None = None

    @property
    def is_plain(self) -> bool:
        """True when the request asks for the whole list as it is."""
        return not self.filters and self.sort is None and self.offset == 0 and self.limit is None


def parse_list_query(
    kind: EntityKind,
    parameters: Sequence[tuple[str, str]],
    *,
    sort: str | None,
    order: str,
    offset: int,
    limit: int | None,
) -> ListQuery:
    """Check the filters and the sort field against the entity's model."""
    fields = SCALAR_FIELDS[kind]
    filters = []
    for name, raw in parameters:
        if name in RESERVED_PARAMETERS:
            continue
        if name not in fields:
            raise QueryError(name, f"{kind} cannot be filtered on {name!r}: not a field with a single value")
        filters.append((name, _parse(kind, name, raw)))
    if sort is not None and sort not in fields:
        raise QueryError("sort", f"{kind} cannot be sorted on {sort!r}: not a field with a single value")
    return ListQuery(tuple(filters), sort, order == "desc", offset, limit)


def select(items: Sequence[Item], query: ListQuery) -> tuple[list[Item], int]:
    """The page of items the query asks for, and how many matched before paging."""
    matched: Sequence[Item] = items
    if query.filters:
        grouped: dict[str, list[Any]] = {}
        for name, value in query.filters:
            grouped.setdefault(name, []).append(value)
        matched = [item for item in items if _matches(item, grouped)]
    if query.sort is not None:
        field = query.sort
        matched = sorted(matched, key=lambda item: item[field], reverse=query.descending)
    total = len(matched)
    end = None if query.limit is None else query.offset + query.limit
    return list(matched[query.offset : end]), total


def _matches(item: Mapping[str, Any], grouped: Mapping[str, list[Any]]) -> bool:
    # Repeating a parameter means "any of these values" (?status=Active&status=At%20Risk).
    return all(item[name] in values for name, values in grouped.items())
