"""The recording file: JSON Lines, one received message per line, append-only.

Each line is one object: `{"t": <arrival, epoch seconds>, "m": <arrival, monotonic seconds>, "topic": "...",
"qos": 1, "retain": false, "payload": "<UTF-8 text>"}`, with `"payload_b64"` instead of `"payload"` when the
bytes are not UTF-8 (`"m"` is missing in recordings made before it was added: the wall time stands in).
A line with `"monitor"` instead of `"topic"` is a mark of the recorder's own (`Mark`): it lost its broker
connection (`disconnected`, with a `reason`) or has it back (`reconnected`).
This module owns that format (`encode()`, `decode()`) and the reading: `iter_items()` reads a file back
as a stream of `Record`s, reporting bad lines (and a torn last line) as `BadLine` values instead of
raising. The writing is the receiver's (`monitor.receiving.writer`).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from monitor.errors import RecordingError
from monitor.record import Record


@dataclass(frozen=True)
class BadLine:
    """A line of a recording that is not a valid record.

    `torn` is true for a last line cut short (no final newline and not parsable): what a recorder killed
    mid-write leaves. It is expected, not an error.
    """

    line: int
    reason: str
    torn: bool = False


@dataclass(frozen=True)
class Mark:
    """A line the recorder writes about itself (`"monitor": event`): `disconnected` (from its broker,
    `reason` says why) or `reconnected` (and subscribed again). Messages published while it was away were
    never seen: the checker tells them apart from messages lost between a device and the broker."""

    t: float
    event: str
    mono: float | None = None
    reason: str = ""


MARK_EVENTS = ("disconnected", "reconnected")


def encode_mark(mark: Mark) -> bytes:
    """One recording line (with its newline) for `mark`."""
    obj: dict[str, object] = {"t": mark.t, "m": mark.mono, "monitor": mark.event}
    if mark.reason:
        obj["reason"] = mark.reason
    return orjson.dumps(obj) + b"\n"


def _times(t: object, mono: object) -> tuple[float, float | None]:
    """A line's `"t"` and `"m"` as floats (`"m"` may be missing); `ValueError` when either is not a time."""
    if type(t) is not float and type(t) is not int or not _finite(t):  # type: ignore[arg-type]
        raise ValueError('"t" must be a number (epoch seconds)')
    if mono is not None and (type(mono) is not float and type(mono) is not int
                             or not _finite(mono)):  # type: ignore[arg-type]
        raise ValueError('"m" must be a number (monotonic seconds)')
    return float(t), None if mono is None else float(mono)  # type: ignore[arg-type]


def _decode_mark(obj: dict[str, object]) -> Mark:
    t, mono = _times(obj.get("t"), obj.get("m"))
    event, reason = obj.get("monitor"), obj.get("reason", "")
    if event not in MARK_EVENTS:
        raise ValueError(f'"monitor" must be one of: {", ".join(MARK_EVENTS)}')
    if type(reason) is not str:
        raise ValueError('"reason" must be a string')
    return Mark(t, event, mono, reason)  # type: ignore[arg-type]


def encode(record: Record) -> bytes:
    """One recording line (with its newline) for `record`."""
    obj: dict[str, object] = {"t": record.t, "topic": record.topic, "qos": record.qos, "retain": record.retain}
    if record.mono is not None:
        obj["m"] = record.mono
    try:
        obj["payload"] = record.payload.decode("utf-8")
    except UnicodeDecodeError:
        obj["payload_b64"] = base64.b64encode(record.payload).decode("ascii")
    return orjson.dumps(obj) + b"\n"


def _load_line(line: bytes) -> object:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        pass
    try:  # the standard library decides what orjson refuses (and says why)
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8") from None
    if not text.strip():
        raise ValueError("empty line")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise ValueError("not JSON") from None


def _finite(t: float | int) -> bool:
    """Whether `t` is a finite number as a float (an integer too large for one is not)."""
    try:
        return math.isfinite(t)
    except OverflowError:
        return False


def decode(line: bytes) -> Record | Mark:
    """The `Record` (or the recorder's `Mark`) one recording line holds (its newline may be included);
    `ValueError` with a short reason when it holds none."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        obj = _load_line(line)
    if type(obj) is not dict:
        raise ValueError("not a JSON object")
    get = obj.get
    if "monitor" in obj and "topic" not in obj:
        return _decode_mark(obj)
    t, mono = _times(get("t"), get("m"))
    topic = get("topic")
    if type(topic) is not str or not topic:
        raise ValueError('"topic" must be a non-empty string')
    qos = get("qos")
    if type(qos) is not int or qos not in (0, 1, 2):
        raise ValueError('"qos" must be 0, 1 or 2')
    retain = get("retain")
    if retain is not True and retain is not False:
        raise ValueError('"retain" must be true or false')
    text = get("payload")
    if text is not None and "payload_b64" not in obj:
        if type(text) is not str:
            raise ValueError('"payload" must be a string')
        return Record(t, topic, qos, retain, text.encode("utf-8"), mono)
    if ("payload" in obj) == ("payload_b64" in obj):
        raise ValueError('exactly one of "payload" and "payload_b64" is needed')
    if "payload" in obj:
        raise ValueError('"payload" must be a string')
    if type(obj["payload_b64"]) is not str:
        raise ValueError('"payload_b64" must be a string')
    try:
        payload = base64.b64decode(obj["payload_b64"], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError('"payload_b64" is not valid base64') from None
    return Record(t, topic, qos, retain, payload, mono)


def decode_item(number: int, line: bytes) -> Record | Mark | BadLine:
    """Line `number` of a recording: its `Record`, or a `BadLine` saying why it holds none (torn when it
    lacks its newline: only the last line can)."""
    try:
        return decode(line)  # a JSON decoder ignores the newline
    except ValueError as exc:
        return BadLine(line=number, reason=str(exc), torn=not line.endswith(b"\n"))


def text_fields(line: bytes) -> tuple[float, str, bool, str, float | None] | None:
    """`(t, topic, retain, text, mono)` of a recording line holding a valid record with a text payload, the
    common case (`decode(line)` is then `Record(t, topic, qos, retain, text.encode(), mono)`), checked in one go
    and without building the `Record`; None for any other line, and for one orjson cannot read (`decode()`
    says what those hold)."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None  # the standard library decides (`decode()`)
    try:  # (no more than three names an assignment: more would build a tuple to unpack)
        t, topic, qos = obj["t"], obj["topic"], obj["qos"]
        retain, text = obj["retain"], obj["payload"]
    except (KeyError, TypeError):  # a key missing, or not an object
        return None
    if type(text) is str and type(topic) is str and topic and type(qos) is int and qos in (0, 1, 2) \
            and (retain is True or retain is False) and "payload_b64" not in obj:
        mono = obj.get("m")
        if mono is not None:
            if type(mono) is int:
                mono = float(mono)
            elif type(mono) is not float or not math.isfinite(mono):
                return None  # `decode()` says what is wrong with it
        if type(t) is float and math.isfinite(t):
            return t, topic, retain, text, mono
        if type(t) is int:  # from orjson: at most 64 bits, so finite as a float too
            return float(t), topic, retain, text, mono
    return None


def parse(data: bytes) -> list[Record | Mark | BadLine]:
    """Every line of a recording's bytes, in order: item N is line N."""
    lines = data.split(b"\n")
    last = lines.pop()
    items = [decode_item(n, line + b"\n") for n, line in enumerate(lines, start=1)]
    if last:
        items.append(decode_item(len(lines) + 1, last))
    return items


def iter_items(path: str | Path) -> Items:
    """Every line of the recording at `path`, as it is read (item N is line N). Only the last line can
    lack its newline: when it does not decode, it is a torn `BadLine`. `RecordingError` when the file
    cannot be read."""
    return Items(path)


class Items(Iterator[Record | BadLine]):
    """What `iter_items()` returns: the items of the recording at `path`, decoded as they are taken. A
    reader that decodes lines itself (the offline checker) takes `lines()` instead, while `fresh`."""

    def __init__(self, path: str | Path) -> None:
        self.path = path
        self._items: Iterator[Record | BadLine] | None = None

    @property
    def fresh(self) -> bool:
        """No item was taken yet."""
        return self._items is None

    def __next__(self) -> Record | BadLine:
        if self._items is None:
            self._items = self._decoded()
        return next(self._items)

    def _decoded(self) -> Iterator[Record | BadLine]:
        for number, line in self.lines():
            try:  # `decode_item()`, inlined: this runs for every line
                yield decode(line)
            except ValueError as exc:
                yield BadLine(line=number, reason=str(exc), torn=not line.endswith(b"\n"))

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """`(number, line)` for every line of the file from its start, undecoded (the newline included,
        but for a last line that lacks it); `RecordingError` when the file cannot be read."""
        path = self.path
        try:
            f = open(path, "rb")  # noqa: SIM115 (closed below)
        except OSError as exc:
            raise RecordingError(f"cannot read {path}: {exc.strerror or exc}") from None
        with f:
            try:
                yield from enumerate(f, start=1)
            except OSError as exc:
                raise RecordingError(f"cannot read {path}: {exc.strerror or exc}") from None


def read(path: str | Path) -> list[Record | BadLine]:
    """Every line of the recording at `path`; `RecordingError` when it cannot be read."""
    return list(iter_items(path))


FULL_BYTES = 64 * 1024
"""A file system with less room than this (for its user) is full: a recorder's next batch may not fit."""


def disk_full(path: str | Path) -> bool:
    """Whether the file system holding `path` is full now (a recording on it may have been cut short)."""
    try:
        fs = os.statvfs(path)
    except OSError:
        return False
    return fs.f_bavail * fs.f_frsize < FULL_BYTES


def default_path(now: float | None = None) -> Path:
    """`recordings/<YYYYmmdd-HHMMSS>.jsonl`, named after the local time `now`."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return Path("recordings") / f"{stamp}.jsonl"
