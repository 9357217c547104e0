"""`python -m monitor devices`: every device the broker holds a retained `status` or `state` for, as a
one-shot table (or JSON). `rows()` and `table()` are pure; `devices()` asks the broker (monitor.retained).

A retained message does not say when it was published (MQTT 3.1.1 keeps no time, and the node's `ts` is
its uptime, not the clock), so the table shows the node's uptime when it made its snapshot (`up`), not
the snapshot's age.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from monitor.message import json_object
from monitor.mqtt import Security
from monitor.record import Record
from monitor.retained import collect
from monitor.text import cut, printable

FILTERS = ("pico/+/status", "pico/+/state")
_COLUMNS = ("device", "status", "boot", "sess", "led", "mode", "ver", "seq", "up")


def _body(record: Record | None) -> dict[str, Any] | None:
    """The message's JSON object, or None (absent, or not a JSON object: shown as `malformed`)."""
    return None if record is None else json_object(record.payload)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _uptime(ms: int | None) -> str:
    if ms is None or ms < 0:
        return ""
    s = ms // 1000
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def rows(retained: Mapping[str, Record]) -> list[dict[str, Any]]:
    """One row per device, sorted by id, from the retained messages (topic -> record)."""
    per: dict[str, dict[str, Record]] = {}
    for topic, record in retained.items():
        parts = topic.split("/")
        if len(parts) == 3 and parts[0] == "pico" and parts[2] in ("status", "state") and parts[1]:
            per.setdefault(parts[1], {})[parts[2]] = record
    out = []
    for device in sorted(per):
        status, state = per[device].get("status"), per[device].get("state")
        sb, tb = _body(status), _body(state)
        if status is None:
            online = None
        elif sb is None:
            online = "malformed"
        else:
            online = sb.get("online") is True
        # The newest word on boot and session: the state when it is of the status's boot, or has no status.
        boot = _str((tb or {}).get("boot")) or _str((sb or {}).get("boot"))
        seqs = [s for s in (_int(b.get("seq")) for b in (sb, tb) if b and _str(b.get("boot")) == boot) if s is not None]
        sesss = [s for s in (_int(b.get("sess")) for b in (sb, tb) if b and _str(b.get("boot")) == boot) if s is not None]
        out.append({
            "device": device,
            "online": online,
            "boot": boot,
            "sess": max(sesss) if sesss else None,
            "led": _str((tb or {}).get("led")),
            "lit": _int((tb or {}).get("lit")),
            "mode": _str((tb or {}).get("mode")),
            "ver": _int((tb or {}).get("ver")),
            "seq": max(seqs) if seqs else None,
            "uptime_ms": _int((tb or {}).get("ts")),
            "status": sb if status is not None else None,
            "state": tb if state is not None else None,
            "state_malformed": state is not None and tb is None,
        })
    return out


def _cells(row: Mapping[str, Any]) -> list[str]:
    online = row["online"]
    status = {True: "online", False: "offline", None: "?"}.get(online, "malformed")
    led = row["led"] or ("malformed" if row["state_malformed"] else "")
    if row["led"] is not None and row["lit"] in (0, 1):
        led += " ●" if row["lit"] else " ○"

    def text(value: Any) -> str:
        return "" if value is None else str(value)

    return [cut(printable(row["device"]), 24), status, cut(printable(text(row["boot"])), 8), text(row["sess"]),
            cut(printable(led), 12), cut(printable(text(row["mode"])), 6), text(row["ver"]), text(row["seq"]),
            _uptime(row["uptime_ms"])]


def table(found: list[dict[str, Any]]) -> str:
    """The rows as an aligned text table with a header line."""
    lines = [list(_COLUMNS)] + [_cells(r) for r in found]
    widths = [max(len(line[i]) for line in lines) for i in range(len(_COLUMNS))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines) + "\n"


def json_text(found: list[dict[str, Any]]) -> str:
    """The rows as one JSON document: `{"devices": [...]}` (the bodies of the retained messages included)."""
    rows_out = [{k: v for k, v in r.items() if k != "state_malformed"} for r in found]
    return json.dumps({"devices": rows_out}) + "\n"


def devices(broker: str, *, security: Security | None = None) -> tuple[list[dict[str, Any]], bool]:
    """The devices the broker holds retained messages for, and whether the collection was complete."""
    got = collect(broker, FILTERS, security=security, name="monitor-devices")
    return rows(got.messages), got.complete
