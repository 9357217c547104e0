"""A node's snapshot (`pico/<id>/state`) shown to a person, one field per line, as `send --get` prints it:

    led          auto (lit)
    mode         fast
    buttons      a held, b up
    presses      a 2, b 1
    temp_c       24.3
    ...

and its JSON for `--json`: the payload as received when it is one printable line, else the same JSON
re-encoded on one line. Pure; every line is `printable()` (the payload comes from the network).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from monitor.text import printable, printable_json

_FIRST = ("led", "mode", "buttons", "presses", "temp_c", "dropped", "cmd_dropped", "ver", "boot", "sess", "seq", "ts")


def _value(key: str, value: Any, body: Mapping[str, Any]) -> str:
    if key == "led" and isinstance(value, str) and body.get("lit") in (0, 1):
        return f"{value} ({'lit' if body['lit'] else 'dark'})"
    if key == "buttons" and isinstance(value, Mapping):
        return ", ".join(f"{k} {'held' if v is True else 'up' if v is False else json.dumps(v)}"
                         for k, v in value.items())
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {json.dumps(v)}" for k, v in value.items())
    if key == "ts" and isinstance(value, int) and not isinstance(value, bool):
        return f"{value} (ms since boot)"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def lines(body: Mapping[str, Any]) -> list[str]:
    """The snapshot's fields, the usual ones first in a fixed order, then any others; `lit` goes with `led`."""
    keys = [k for k in _FIRST if k in body] + [k for k in body if k not in _FIRST and not (k == "lit" and "led" in body)]
    width = max((len(printable(str(k))) for k in keys), default=0) + 2
    return [printable(f"{str(k).ljust(width)}{_value(k, body[k], body)}") for k in keys]


def json_line(payload: bytes) -> str:
    """The snapshot's JSON on one line: as received when that is printable text on one line."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and text.isprintable():
        return text
    return printable_json(json.dumps(json.loads(payload)))
