"""What a recorded MQTT message means under the node contract (docs/protocol.md): the envelope.

`parse()` turns a `Record` into a `Message`: which device (`pico/<id>/<kind>`), which kind, and the
fields every node message carries (`boot`, `sess`, `seq`, `ts`, plus `ver` when present). It checks
only those; what the rest of the payload says is the device model's business. Anything that is not a
valid message raises `Malformed` with a short reason (and the device, when the topic names one): a
payload that is not UTF-8 or not JSON, larger than `MAX_PAYLOAD`, or missing an envelope field.

`loads()` is the one JSON decoder: orjson for speed, with the standard library deciding whenever
orjson refuses (they differ on edge cases such as integers beyond 64 bits and NaN), so what counts as
JSON is what Python's `json` says.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import orjson

from monitor.record import Record

NODE_KINDS = ("status", "state", "event", "ack")
"""The kinds a node publishes (each carries `boot`, `sess`, `seq`, `ts`)."""
KINDS = (*NODE_KINDS, "cmd")
"""Every kind under `pico/<id>/`: `cmd` is published by a laptop and has no envelope."""

MAX_PAYLOAD = 16 * 1024
"""A node message is a few hundred bytes; anything beyond this is malformed (and not decoded)."""

_BOOT = re.compile(r"[0-9a-fA-F]{8}")


def loads(data: bytes | str) -> Any:
    """JSON-decode `data` (orjson, with `json` as the authority); `ValueError` when it is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        try:
            return json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
        except RecursionError:  # absurdly deep nesting
            raise ValueError("too deeply nested") from None


class Malformed(ValueError):
    """A record that is not a valid message; `device` is set when the topic names one."""

    def __init__(self, reason: str, device: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.device = device


@dataclass(slots=True)
class Message:
    """One message of the contract, as received (treat as immutable; not frozen for speed).

    `seq` is None only for a Last Will (`status` with `online: false` and no `seq`/`ts`) and for `cmd`
    messages; `boot` and `sess` are None only for `cmd`. `body` is the whole JSON object (None for
    `cmd`: the model reads commands from the raw bytes). `line` is the position in the recording (1-based, 0 when
    unknown).
    """

    device: str
    kind: str
    t: float
    retained: bool
    body: Any
    boot: str | None = None
    sess: int | None = None
    seq: int | None = None
    ver: int | None = None
    line: int = 0
    command: Any = None
    """For an `ack`: the command it answers (`monitor.model.Command`), attached by the checker."""

    @property
    def is_will(self) -> bool:
        return self.kind == "status" and self.seq is None


def split_topic(topic: str) -> tuple[str, str]:
    """`(device, kind)` of `pico/<id>/<kind>`; `Malformed` for any other topic."""
    parts = topic.split("/")
    device = parts[1] if len(parts) >= 2 and parts[0] == "pico" and parts[1] else None
    if device is None:
        raise Malformed(f"topic {topic!r} is not pico/<id>/<kind>")
    if len(parts) != 3 or parts[2] not in KINDS:
        raise Malformed(f"topic {topic!r}: kind must be one of {', '.join(KINDS)}", device)
    return device, parts[2]


_CACHE = 4096
"""Valid topics and boot ids remembered (a fleet repeats a few of each: checked once, then looked up)."""
_topics: dict[str, tuple[str, str]] = {}
_boots: set[str] = set()


def _remember_topic(topic: str) -> tuple[str, str]:
    """`split_topic()`, remembering the valid topics (bounded)."""
    split = split_topic(topic)
    if len(_topics) >= _CACHE:
        _topics.clear()
    _topics[topic] = split
    return split


def _new_boot(boot: str) -> bool:
    """Whether `boot`, not yet remembered, is a valid boot id (remembering it when it is)."""
    if not _BOOT.fullmatch(boot):
        return False
    if len(_boots) >= _CACHE:
        _boots.clear()
    _boots.add(boot)
    return True


def _is_int(value: object, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _body_orjson_refused(payload: bytes, device: str) -> Any:
    """The JSON in `payload`, which orjson refused, as `loads()` decides; `Malformed` when it is none."""
    try:
        return loads(payload)
    except ValueError:
        pass
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("payload is not UTF-8", device) from None
    raise Malformed("payload is not JSON", device) from None


def parse(record: Record, line: int = 0) -> Message:
    """The `Message` in `record`; `Malformed` when it is not one."""
    device, kind = _topics.get(record.topic) or _remember_topic(record.topic)
    payload = record.payload
    if kind == "cmd":  # published by a laptop: no envelope; the model reads it (`model.parse_command`)
        return Message(device, kind, record.t, record.retain, None, line=line)
    if len(payload) > MAX_PAYLOAD:
        raise Malformed(f"payload too large: {len(payload)} bytes (at most {MAX_PAYLOAD})", device)
    try:
        body = orjson.loads(payload)  # `loads()`, its common case inlined
    except orjson.JSONDecodeError:
        body = _body_orjson_refused(payload, device)
    if type(body) is not dict:
        raise Malformed("payload is not a JSON object", device)
    get = body.get
    boot = get("boot")
    if type(boot) is not str or (boot not in _boots and not _new_boot(boot)):
        raise Malformed('"boot" must be a string of 8 hex digits', device)
    sess = get("sess")
    if type(sess) is not int or sess < 1:
        raise Malformed('"sess" must be an integer >= 1', device)
    seq = get("seq")
    if seq is None and kind == "status" and get("online") is False and "seq" not in body \
            and "ts" not in body:
        return Message(device, kind, record.t, record.retain, body, boot, sess, None, None, line)  # a Last Will
    if type(seq) is not int or seq < 1:
        raise Malformed('"seq" must be an integer >= 1', device)
    ts = get("ts")
    if type(ts) is not int or ts < 0:
        raise Malformed('"ts" must be an integer >= 0', device)
    ver = get("ver")
    if ver is not None and (type(ver) is not int or ver < 0):
        raise Malformed('"ver" must be an integer >= 0', device)
    return Message(device, kind, record.t, record.retain, body, boot, sess, seq, ver, line)


def try_parse(record: Record, line: int = 0) -> Message | Malformed:
    """`parse()`, returning the `Malformed` instead of raising it."""
    try:
        return parse(record, line)
    except Malformed as exc:
        return exc
