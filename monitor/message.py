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
import sys
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
_SURELY_SMALL = MAX_PAYLOAD // 4
"""A payload of at most this many bytes, or characters (4 bytes each at most in UTF-8), is not too large."""

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


def json_object(payload: bytes | str) -> dict[str, Any] | None:
    """The payload's JSON object (decoded as `loads` does), or None when it is not JSON or not an object:
    for readers that pass over what they cannot read (`send`, `devices`, `forget`, the live views)."""
    try:
        value = loads(payload)
    except ValueError:  # (UnicodeDecodeError is one)
        return None
    return value if isinstance(value, dict) else None


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
    unknown). `t` is the arrival on the checker's clock (monotonic: what its timers run on), `wall` the
    arrival by the wall clock (epoch seconds: what evidence shows; None: the same as `t`).
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
    wall: float | None = None

    @property
    def is_will(self) -> bool:
        return self.kind == "status" and self.seq is None


_new_message = object.__new__
"""A `Message` with no field set yet (see the end of `parse_payload()`)."""


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
_boots: dict[str, str] = {}
"""Each valid boot id seen, to itself: the messages of a boot share one string (equal strings that are the
same object compare at once, and take no more room)."""


def _remember_topic(topic: str) -> tuple[str, str]:
    """`split_topic()`, remembering the valid topics (bounded); the names are interned, so that comparing
    them with the kinds' names, or one device's names from its several topics, is quick."""
    device, kind = split_topic(topic)
    if len(_topics) >= _CACHE:
        _topics.clear()
    split = _topics[topic] = sys.intern(device), sys.intern(kind)
    return split


def _new_boot(boot: object) -> str | None:
    """`boot`, not yet remembered, when it is a valid boot id (remembering it); None when it is not one."""
    if type(boot) is not str or not _BOOT.fullmatch(boot):
        return None
    if len(_boots) >= _CACHE:
        _boots.clear()
    _boots[boot] = boot
    return boot


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


def parse(record: Record, line: int = 0, t: float | None = None) -> Message:
    """The `Message` in `record` (`t`: its arrival on the checker's clock, if not `record.t`); `Malformed`
    when it is not one."""
    return parse_payload(record.topic, record.t if t is None else t, record.retain, record.payload, line, record.t)


def parse_payload(topic: str, t: float, retained: bool, payload: bytes | str, line: int = 0,
                  wall: float | None = None) -> Message:
    """`parse()` of a record given by its fields (`t` on the checker's clock, `wall` by the wall clock when it
    differs). `payload` may also be the text the bytes decode to (a
    recording's line holds it so): orjson reads that as it is, with no encoding to bytes. The text must be
    valid Unicode (no lone surrogates: no string orjson decodes has one); its UTF-8 bytes are the payload."""
    device, kind = _topics.get(topic) or _remember_topic(topic)
    if kind == "cmd":  # published by a laptop: no envelope; the model reads it (`model.parse_command`)
        return Message(device, kind, t, retained, None, line=line, wall=t if wall is None else wall)
    if len(payload) > _SURELY_SMALL:
        size = len(payload) if type(payload) is bytes else len(payload.encode("utf-8"))
        if size > MAX_PAYLOAD:
            raise Malformed(f"payload too large: {size} bytes (at most {MAX_PAYLOAD})", device)
    try:
        body = orjson.loads(payload)  # `loads()`, its common case inlined
    except orjson.JSONDecodeError:
        body = _body_orjson_refused(payload if type(payload) is bytes else payload.encode("utf-8"), device)
    if type(body) is not dict:
        raise Malformed("payload is not a JSON object", device)
    try:  # subscripts cost less than `get()`; a field missing is rare (no `ver` in a status, ...)
        boot, sess, seq = body["boot"], body["sess"], body["seq"]
        ts, ver = body["ts"], body["ver"]
    except KeyError:
        get = body.get
        boot, sess, seq, ts, ver = get("boot"), get("sess"), get("seq"), get("ts"), get("ver")
    try:
        boot = _boots[boot]
    except (KeyError, TypeError):  # not seen yet, or not even hashable
        boot = _new_boot(boot)
    if boot is None:
        raise Malformed('"boot" must be a string of 8 hex digits', device)
    if type(sess) is not int or sess < 1:
        raise Malformed('"sess" must be an integer >= 1', device)
    if seq is None and kind == "status" and body.get("online") is False and "seq" not in body \
            and "ts" not in body:
        return Message(device, kind, t, retained, body, boot, sess, None, None, line,
                       wall=t if wall is None else wall)  # a Last Will
    if type(seq) is not int or seq < 1:
        raise Malformed('"seq" must be an integer >= 1', device)
    if type(ts) is not int or ts < 0:
        raise Malformed('"ts" must be an integer >= 0', device)
    if ver is not None and (type(ver) is not int or ver < 0):
        raise Malformed('"ver" must be an integer >= 0', device)
    # `Message(device, kind, t, retained, body, boot, sess, seq, ver, line)`, field by field (all of them):
    # calling the class costs a fresh interpreter frame, and another for `__init__`, as much as all the rest
    # of this function, which runs for every message.
    m = _new_message(Message)
    m.device, m.kind, m.t = device, kind, t
    m.retained, m.body, m.boot = retained, body, boot
    m.sess, m.seq, m.ver = sess, seq, ver
    m.line, m.command, m.wall = line, None, t if wall is None else wall
    return m


def try_parse(record: Record, line: int = 0) -> Message | Malformed:
    """`parse()`, returning the `Malformed` instead of raising it."""
    try:
        return parse(record, line)
    except Malformed as exc:
        return exc
