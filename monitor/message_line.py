"""One short human line per received message, as `record` prints them:

    12:00:01.234 pico-abc state seq=17 ver=6 led=auto lit=1 mode=fast a=1 b=0

Never raises: a message that does not fit the contract is shown as MALFORMED with the reason. Every
line is `printable()`: what a client published never reaches the terminal as control characters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitor.message import Malformed, Message, try_parse
from monitor.record import Record
from monitor.report import clock
from monitor.text import printable


def _bit(value: Any) -> str:
    return "1" if value is True else "0" if value is False else "?"


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _body(m: Message) -> str:
    b: Mapping[str, Any] = m.body
    head = f"seq={m.seq}" + (f" ver={m.ver}" if m.ver is not None else "")
    if m.kind == "state":
        held = b.get("buttons")
        buttons: Mapping[str, Any] = held if isinstance(held, Mapping) else {}
        return (f"{head} led={b.get('led')} lit={b.get('lit')} mode={b.get('mode')} "
                f"a={_bit(buttons.get('a'))} b={_bit(buttons.get('b'))}")
    if m.kind == "event":
        kind = b.get("kind")
        if kind == "button":
            edge = "pressed" if b.get("pressed") is True else "released"
            return f"{head} button {b.get('button')} {edge} presses={b.get('presses')}"
        cause = f" by={b.get('by')}" + (f" cmd={b.get('cmd')}" if b.get("by") == "cmd" else "")
        return f"{head} {kind} {b.get(str(kind))}{cause}"
    if m.kind == "ack":
        verdict = f"ok ver={m.ver}" if b.get("ok") is True else f"rejected: {b.get('error')}"
        return f"seq={m.seq} id={b.get('id')} {verdict}"
    if m.is_will:
        return f"offline (last will) sess={m.sess}"
    online = "online" if b.get("online") is True else "offline"
    fw = f" fw={b.get('fw')}" if "fw" in b else ""
    return f"{head} {online}{fw} sess={m.sess}"


def line(record: Record) -> str:
    """The human line for `record`, safe to print (`printable()`)."""
    return printable(_line(record))


def _line(record: Record) -> str:
    try:
        parsed = try_parse(record)
        if isinstance(parsed, Malformed) and not record.payload and parsed.device \
                and record.topic.endswith(("/status", "/state")):  # what `forget` and a fleet ending send
            return f"{clock(record.t)} {parsed.device} {record.topic.rsplit('/', 1)[-1]} cleared (empty retained)"
        if isinstance(parsed, Malformed):
            who = parsed.device or record.topic
            kind = record.topic.rsplit("/", 1)[-1] if parsed.device else ""
            return f"{clock(record.t)} {who} {kind + ' ' if kind else ''}MALFORMED: {parsed.reason}"
        retained = " retained" if parsed.retained else ""
        if parsed.kind == "cmd":
            try:
                shown = _short(record.payload.decode("utf-8"))
            except UnicodeDecodeError:
                shown = f"<{len(record.payload)} bytes, not UTF-8>"
            return f"{clock(record.t)} {parsed.device} cmd{retained} {shown}"
        return f"{clock(record.t)} {parsed.device} {parsed.kind}{retained} {_body(parsed)}"
    except Exception as exc:  # noqa: BLE001 (a display line must never take the recorder down)
        return f"{clock(record.t)} {record.topic} <{len(record.payload)} bytes: {type(exc).__name__}>"
