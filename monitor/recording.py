"""The recording file: JSON Lines, one received message per line, append-only.

Each line is one object: `{"t": <arrival, epoch seconds>, "topic": "...", "qos": 1, "retain": false,
"payload": "<UTF-8 text>"}`, with `"payload_b64"` instead of `"payload"` when the bytes are not UTF-8.
This module owns that format: `Writer` appends and flushes line by line, `read()` turns a file back into
`Record`s, reporting bad lines (and a torn last line, left by a killed recorder) as `BadLine` values
instead of raising.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

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


def encode(record: Record) -> bytes:
    """One recording line (with its newline) for `record`."""
    obj: dict[str, object] = {"t": record.t, "topic": record.topic, "qos": record.qos, "retain": record.retain}
    try:
        obj["payload"] = record.payload.decode("utf-8")
    except UnicodeDecodeError:
        obj["payload_b64"] = base64.b64encode(record.payload).decode("ascii")
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": ")).encode("utf-8") + b"\n"


def decode(line: bytes) -> Record:
    """The `Record` one recording line holds; `ValueError` with a short reason when it holds none."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8") from None
    if not text.strip():
        raise ValueError("empty line")
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise ValueError("not JSON") from None
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    t = obj.get("t")
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t):
        raise ValueError('"t" must be a number (epoch seconds)')
    topic = obj.get("topic")
    if not isinstance(topic, str) or not topic:
        raise ValueError('"topic" must be a non-empty string')
    qos = obj.get("qos")
    if isinstance(qos, bool) or qos not in (0, 1, 2):
        raise ValueError('"qos" must be 0, 1 or 2')
    retain = obj.get("retain")
    if not isinstance(retain, bool):
        raise ValueError('"retain" must be true or false')
    if ("payload" in obj) == ("payload_b64" in obj):
        raise ValueError('exactly one of "payload" and "payload_b64" is needed')
    if "payload" in obj:
        if not isinstance(obj["payload"], str):
            raise ValueError('"payload" must be a string')
        payload = obj["payload"].encode("utf-8")
    else:
        if not isinstance(obj["payload_b64"], str):
            raise ValueError('"payload_b64" must be a string')
        try:
            payload = base64.b64decode(obj["payload_b64"], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError('"payload_b64" is not valid base64') from None
    return Record(t=float(t), topic=topic, qos=qos, retain=retain, payload=payload)


def parse(data: bytes) -> list[Record | BadLine]:
    """Every line of a recording's bytes, in order: item N is line N."""
    lines = data.split(b"\n")
    terminated = lines[-1] == b""
    if terminated:
        lines.pop()
    items: list[Record | BadLine] = []
    for number, line in enumerate(lines, start=1):
        try:
            items.append(decode(line))
        except ValueError as exc:
            torn = not terminated and number == len(lines)
            items.append(BadLine(line=number, reason=str(exc), torn=torn))
    return items


def read(path: str | Path) -> list[Record | BadLine]:
    """Every line of the recording at `path`; `RecordingError` when it cannot be read."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise RecordingError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse(data)


def default_path(now: float | None = None) -> Path:
    """`recordings/<YYYYmmdd-HHMMSS>.jsonl`, named after the local time `now`."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return Path("recordings") / f"{stamp}.jsonl"


class Writer:
    """Appends records to a recording, one flushed line each. Not thread-safe: one thread writes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.count = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "ab")  # noqa: SIM115 (closed by close())
        except OSError as exc:
            raise RecordingError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def write(self, record: Record) -> None:
        try:
            self._file.write(encode(record))
            self._file.flush()
        except (OSError, ValueError) as exc:
            raise RecordingError(f"cannot write {self.path}: {exc}") from None
        self.count += 1

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
