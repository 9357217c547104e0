"""What the web page shows, as plain JSON-ready values (pure: no I/O, no threads): a device's card from
what the checker keeps of it (`card()`), a line of the live log from a received message or a finding
(`record_entry()`, `finding_entry()`), and the step in `seq` between a device's consecutive live messages
(`Steps`), the timeline's first lane.

Everything that came from the network stays data here: the page puts it in the document as text
(`textContent`), never as markup, so a payload cannot forge the page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from monitor import findings as F
from monitor.checker import Device
from monitor.message import json_object
from monitor.record import Record

LOG_KINDS = ("status", "event", "cmd", "ack")
"""Messages the live log shows (a `state` snapshot is a heartbeat every few seconds: the card shows it)."""
TEXT_MAX = 300
"""A log line's text at most (a payload may be long)."""


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def _bits(value: Any) -> dict[str, bool | None]:
    """`{"a": held, "b": held}` as the snapshot says it (None where it says no boolean)."""
    value = value if isinstance(value, Mapping) else {}
    return {k: value.get(k) if isinstance(value.get(k), bool) else None for k in ("a", "b")}


def _counts(value: Any) -> dict[str, int | None]:
    value = value if isinstance(value, Mapping) else {}
    return {k: value.get(k) if _number(value.get(k)) else None for k in ("a", "b")}


def _word(value: Any, limit: int = 16) -> str | None:
    return value[:limit] if isinstance(value, str) else None


def online_word(dev: Device, gone: float | None, unknown_before: float | None) -> str:
    """`online`, `offline`, `?` (never said) or `unknown` (what it said came before the broker was lost)."""
    if gone is not None or (unknown_before is not None and (dev.last_seen is None or dev.last_seen < unknown_before)):
        return "unknown"
    if dev.online is None:
        return "?"
    return "online" if dev.online else "offline"


def card(dev: Device, gone: float | None = None, unknown_before: float | None = None) -> dict[str, Any]:
    """A device's card: its newest snapshot's values, online, boot and session, and its findings so far."""
    v = dev.view
    track = dev.current
    lit = v.get("lit")
    return {
        "device": dev.name,
        "online": online_word(dev, gone, unknown_before),
        "boot": _word(track.boot, 8) if track is not None else None,
        "sess": track.sess_max if track is not None else None,
        "fw": _word(dev.fw),
        "ver": v.get("ver") if _number(v.get("ver")) else None,
        "led": _word(v.get("led"), 8),
        "lit": lit if lit in (0, 1) and not isinstance(lit, bool) else None,
        "mode": _word(v.get("mode"), 8),
        "buttons": _bits(v.get("buttons")),
        "presses": _counts(v.get("presses")),
        "temp_c": v.get("temp_c") if _number(v.get("temp_c")) else None,
        "last_seen": dev.last_seen,
        "messages": dev.messages,
        "findings": {k: list(dev.tally[k]) for k in F.KINDS if k in dev.tally},
        "errors": sum(e for _, e in dev.tally.values()),
    }


def body(record: Record) -> dict[str, Any] | None:
    """A message's JSON object (None: not one)."""
    return json_object(record.payload)


def split(topic: str) -> tuple[str, str] | None:
    """`(device, kind)` of a `pico/<id>/<kind>` topic, or None."""
    parts = topic.split("/")
    if len(parts) != 3 or parts[0] != "pico" or not parts[1]:
        return None
    return parts[1], parts[2]


def _short(body: Mapping[str, Any], skip: tuple[str, ...]) -> str:
    text = " ".join(f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in body.items() if k not in skip)
    return text[:TEXT_MAX]


def record_entry(record: Record) -> dict[str, Any] | None:
    """The live log's line for a received message (None: not one the log shows)."""
    where = split(record.topic)
    if where is None or record.retain or where[1] not in LOG_KINDS:
        return None
    device, kind = where
    payload = body(record)
    if not record.payload:
        text = "(empty: a retained message cleared)"
    elif payload is None:
        text = record.payload[:TEXT_MAX].decode("utf-8", "replace")
    elif kind == "event":
        text = _short(payload, ("boot", "sess", "ts", "kind"))
        kind = f"event {_word(payload.get('kind')) or '?'}"
    elif kind == "status":
        text = "online" if payload.get("online") is True else "offline"
        text += f" boot={payload.get('boot')} sess={payload.get('sess')}"
    else:
        text = _short(payload, ("boot", "sess", "ts"))
    return {"t": record.t, "device": device, "kind": kind, "text": text, "level": "msg"}


def finding_entry(finding: F.Finding) -> dict[str, Any]:
    """The live log's line for a finding (`level`: `error` when it fails the check, else `note`)."""
    return {"t": finding.t, "device": finding.device, "kind": finding.kind, "text": finding.detail[:TEXT_MAX],
            "level": "error" if finding.error else "note", "seqs": list(finding.seqs[:20])}


class Steps:
    """The step in `seq` from each live message of a device to the one before it (in arrival order): 1 in
    order, more than 1 a gap, 0 a repeat, less than 0 a reorder. A new `boot` starts again (step None)."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[Any, int]] = {}

    def step(self, device: str, record: Record) -> tuple[int | None, int] | None:
        """`(step, seq)` for a live message with a `seq` (step None: the first of its boot), else None."""
        if record.retain:
            return None
        payload = body(record)
        if payload is None:
            return None
        seq = payload.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool):
            return None
        boot = payload.get("boot")
        last = self._last.get(device)
        self._last[device] = (boot, seq)
        if last is None or last[0] != boot:
            return None, seq
        return seq - last[1], seq

    def forget(self, device: str) -> None:
        self._last.pop(device, None)
