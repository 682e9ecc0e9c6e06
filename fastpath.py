"""Serving bytes the service already holds: validators, gzip, and the shortcut for plain list requests.

A plain `GET /api/{entity}` (no query string) is answered here, inside request metrics and CORS but
before the framework's routing, from the JSON the tick encoded. Everything else, and the OpenAPI schema,
belongs to the FastAPI routes, which produce the very same bytes and headers.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

import data_generator as dg
from prism.memo import MemoKey
from rules import EntityKind

if TYPE_CHECKING:
    from simulator import Simulator

# Below this size gzip saves less than it costs.
GZIP_MIN_BYTES = 1400
# From this size a list is compressed in a worker thread (about 2 ms of CPU; at 100x the default counts a
# list is 0.5 to 1.5 MB, 10 to 20 ms).
OFF_LOOP_BYTES = 128 * 1024


def make_etag(body: bytes) -> str:
    """A strong entity tag for a body: the only place the service makes one. SHA-256 (cut to 96 bits), which
    processors hash in hardware: about 0.6 ms a megabyte here, against 1.7 for BLAKE2b."""
    return '"' + hashlib.sha256(body).hexdigest()[:24] + '"'


@dataclass(frozen=True, slots=True)
class Encoded:
    """One entity list as JSON bytes, with its entity tag."""

    body: bytes
    etag: str


ENCODED_LIST: MemoKey[Encoded] = MemoKey("encoded list")
# The JSON of each item of a served list, kept so that the next tick encodes only the items it changed.
ITEM_JSON: MemoKey[list[bytes]] = MemoKey("encoded items")


def encode_list(snapshot: dg.Snapshot, kind: EntityKind) -> Encoded:
    """The JSON of an entity list of a snapshot, encoded once and kept with the snapshot."""
    cached = snapshot.cache.get(ENCODED_LIST, kind)
    if cached is None:
        cached = _keep(snapshot, kind, orjson.dumps(snapshot.items[kind]))
    return cached


def _keep(snapshot: dg.Snapshot, kind: EntityKind, body: bytes) -> Encoded:
    return snapshot.cache.put(ENCODED_LIST, Encoded(body, make_etag(body)), kind)


def encode_all(snapshot: dg.Snapshot, previous: dg.Snapshot | None = None) -> dg.Snapshot:
    """Encode every list of a served snapshot, so that requests only copy bytes.

    A snapshot a tick advanced from `previous` (the one served before it) keeps each item's JSON too, and an
    item object the two share is not encoded again: a tick changes about one item in ten. Without `previous`
    (start-up, regenerate) each list is encoded whole, which is faster once; the first tick after it encodes
    each item.
    """
    for kind in dg.ENTITY_KINDS:
        if snapshot.cache.get(ENCODED_LIST, kind) is not None:
            continue
        if previous is None:
            encode_list(snapshot, kind)
            continue
        parts = snapshot.cache.put(ITEM_JSON, _item_json(snapshot, kind, previous), kind)
        _keep(snapshot, kind, b"[" + b",".join(parts) + b"]")
    return snapshot


def _item_json(snapshot: dg.Snapshot, kind: EntityKind, previous: dg.Snapshot) -> list[bytes]:
    items, before = snapshot.items[kind], previous.items[kind]
    earlier = previous.cache.get(ITEM_JSON, kind)
    if earlier is None or len(before) != len(items):
        return [_kept_json(item) for item in items]
    return [json if item is was else _kept_json(item) for item, was, json in zip(items, before, earlier, strict=True)]


def _kept_json(item: dg.Item) -> bytes:
    """An item's JSON as a bytes object of its own size. orjson's answer sits in the buffer it wrote into, cut
    down in place: kept by the thousand, the rest of each buffer is memory the allocator cannot hand out again
    (100 MB for 6.6 MB of JSON at 100x the default counts). A copy lets the buffer go at once."""
    return bytes(memoryview(orjson.dumps(item)))


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an `If-None-Match` header names this entity tag (weak comparison, as RFC 9110 asks)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == bare for candidate in if_none_match.split(","))


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an `Accept-Encoding` header allows gzip."""
    if not accept_encoding:
        return False
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


GZIPPED_LIST: MemoKey[bytes] = MemoKey("gzipped list")
# Status, raw headers and body of a plain list request of one shape.
PlainListAnswer = tuple[int, tuple[tuple[bytes, bytes], ...], bytes]
PLAIN_LIST_ANSWER: MemoKey[PlainListAnswer] = MemoKey("plain list answer")


def gzipped(snapshot: dg.Snapshot, kind: EntityKind) -> bytes:
    """The gzip of an entity list's JSON, compressed once per snapshot."""
    return snapshot.cache.get_or_build(
        GZIPPED_LIST, lambda: gzip.compress(encode_list(snapshot, kind).body, compresslevel=6, mtime=0), kind
    )


def response_parts(
    body: bytes,
    *,
    etag: str,
    tick: int,
    if_none_match: str | None,
    accept_encoding: str | None,
    total: int | None = None,
    compressed: Callable[[], bytes] | None = None,
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body of a JSON data answer: 304 when the client has it, gzip when it pays."""
    headers = [("etag", etag), ("x-tick", str(tick)), ("vary", "Accept-Encoding")]
    if total is not None:
        headers.append(("x-total-count", str(total)))
    if etag_matches(if_none_match, etag):
        return 304, headers, b""
    headers.append(("content-type", "application/json"))
    if len(body) >= GZIP_MIN_BYTES and accepts_gzip(accept_encoding):
        body = compressed() if compressed is not None else gzip.compress(body, compresslevel=6, mtime=0)
        headers.append(("content-encoding", "gzip"))
    return 200, headers, body


def list_parts(
    snapshot: dg.Snapshot, kind: EntityKind, request_headers: Mapping[str, str]
) -> tuple[int, list[tuple[str, str]], bytes]:
    """The answer to a plain list request, from the bytes the tick encoded."""
    encoded: Encoded = encode_list(snapshot, kind)
    return response_parts(
        encoded.body,
        etag=encoded.etag,
        tick=snapshot.tick,
        if_none_match=request_headers.get("if-none-match"),
        accept_encoding=request_headers.get("accept-encoding"),
        total=len(snapshot.items[kind]),
        compressed=lambda: gzipped(snapshot, kind),
    )


class ShortcutRoute(NamedTuple):
    """Put in the scope of an answered request, so request metrics label it by its route, as a routed one."""

    path: str


class PlainListShortcut:
    """ASGI middleware answering a plain `GET /api/{entity}` from the bytes the tick encoded.

    It sits inside request metrics and CORS, which treat its answers as any other (CORS adds its headers
    to them), and in front of routing, which it skips: nearly every request of a polling dashboard is one
    of a few shapes, so each answer is built once per snapshot and then only sent.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        kinds: Iterable[EntityKind],
        simulator: Callable[[], Simulator | None],
        enabled: Callable[[], bool],
    ) -> None:
        self.app = app
        self.routes = {f"/api/{kind}": (kind, ShortcutRoute(f"/api/{kind}")) for kind in kinds}
        self.simulator = simulator
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["query_string"]:
            await self.app(scope, receive, send)
            return
        route = self.routes.get(scope["path"])
        simulator = self.simulator() if route is not None else None
        if route is None or simulator is None or not self.enabled():
            await self.app(scope, receive, send)
            return
        kind, scope["route"] = route
        if_none_match = accept_encoding = None
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif name == b"accept-encoding":
                accept_encoding = value.decode("latin-1")
        snapshot = simulator.snapshot
        conditional = if_none_match is not None and etag_matches(if_none_match, encode_list(snapshot, kind).etag)
        wants_gzip = accept_encoding is not None and accepts_gzip(accept_encoding)
        shape = (kind, conditional, wants_gzip)
        answer = snapshot.cache.get(PLAIN_LIST_ANSWER, shape)
        if answer is None:
            make = functools.partial(_plain_list_answer, snapshot, kind, conditional, wants_gzip)
            # Compressing a large list (the first gzip request of a tick) is work for a thread, not the loop.
            large = wants_gzip and not conditional and len(encode_list(snapshot, kind).body) > OFF_LOOP_BYTES
            answer = snapshot.cache.put(PLAIN_LIST_ANSWER, await asyncio.to_thread(make) if large else make(), shape)
        status, headers, body = answer
        # A new list each time: the middlewares outside add their headers to it.
        await send({"type": "http.response.start", "status": status, "headers": list(headers)})
        await send({"type": "http.response.body", "body": body})


def _plain_list_answer(snapshot: dg.Snapshot, kind: EntityKind, conditional: bool, wants_gzip: bool) -> PlainListAnswer:
    request_headers = {"accept-encoding": "gzip"} if wants_gzip else {}
    if conditional:
        request_headers["if-none-match"] = encode_list(snapshot, kind).etag
    status, headers, body = list_parts(snapshot, kind, request_headers)
    if status != 304:  # a 304 must not claim a length other than the 200's (RFC 9110 8.6)
        headers.append(("content-length", str(len(body))))
    encoded = tuple((name.encode("latin-1"), value.encode("latin-1")) for name, value in headers)
    return status, encoded, body
