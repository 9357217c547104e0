"""What a recorded MQTT message means under the node contract (docs/protocol.md): the envelope.

`parse()` turns a `Record` into a `Message`: which device (`pico/<id>/<kind>`), which kind, and the
fields every node message carries (`boot`, `sess`, `seq`, `ts`, plus `ver` when present). It checks
only those; what the rest of the payload says is the device model's business. Anything that is not a
valid message raises `Malformed` with a short reason (and the device, when the topic names one).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from monitor.record import Record

NODE_KINDS = ("status", "state", "event", "ack")
"""The kinds a node publishes (each carries `boot`, `sess`, `seq`, `ts`)."""
KINDS = (*NODE_KINDS, "cmd")
"""Every kind under `pico/<id>/`: `cmd` is published by a laptop and has no envelope."""

_BOOT = re.compile(r"[0-9a-fA-F]{8}")


class Malformed(ValueError):
    """A record that is not a valid message; `device` is set when the topic names one."""

    def __init__(self, reason: str, device: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.device = device


@dataclass(frozen=True)
class Message:
    """One message of the contract, as received.

    `seq` is None only for a Last Will (`status` with `online: false` and no `seq`/`ts`) and for `cmd`
    messages; `boot` and `sess` are None only for `cmd`. `body` is the whole JSON object (for `cmd`:
    whatever the payload parsed to, or None). `line` is the position in the recording (1-based, 0 when
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
    text: str = field(default="", repr=False)

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


def _is_int(value: object, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def parse(record: Record, line: int = 0) -> Message:
    """The `Message` in `record`; `Malformed` when it is not one."""
    device, kind = split_topic(record.topic)
    try:
        text = record.payload.decode("utf-8")
    except UnicodeDecodeError:
        if kind == "cmd":
            return Message(device, kind, record.t, record.retain, None, line=line)
        raise Malformed("payload is not UTF-8", device) from None
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        body = None
        if kind != "cmd":
            raise Malformed("payload is not JSON", device) from None
    if kind == "cmd":
        return Message(device, kind, record.t, record.retain, body, line=line, text=text)
    if not isinstance(body, Mapping):
        raise Malformed("payload is not a JSON object", device)
    boot = body.get("boot")
    if not isinstance(boot, str) or not _BOOT.fullmatch(boot):
        raise Malformed('"boot" must be a string of 8 hex digits', device)
    sess = body.get("sess")
    if not _is_int(sess, 1):
        raise Malformed('"sess" must be an integer >= 1', device)
    will = kind == "status" and body.get("online") is False and "seq" not in body and "ts" not in body
    seq = body.get("seq")
    if not will:
        if not _is_int(seq, 1):
            raise Malformed('"seq" must be an integer >= 1', device)
        if not _is_int(body.get("ts"), 0):
            raise Malformed('"ts" must be an integer >= 0', device)
    ver = body.get("ver")
    if ver is not None and not _is_int(ver, 0):
        raise Malformed('"ver" must be an integer >= 0', device)
    return Message(device, kind, record.t, record.retain, body, boot=boot, sess=sess,
                   seq=None if will else seq, ver=ver, line=line, text=text)


def try_parse(record: Record, line: int = 0) -> Message | Malformed:
    """`parse()`, returning the `Malformed` instead of raising it."""
    try:
        return parse(record, line)
    except Malformed as exc:
        return exc
