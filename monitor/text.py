"""Text from the network made safe to print: `printable()` and `cut()`.

Anything a client may publish (device ids, payload fields, an ack's error, a malformed line) reaches the
user's terminal through the monitor. A control character there is an instruction to the terminal, not
text: `ESC [2J` clears the screen, an OSC sequence (`ESC ] ... BEL`) can set the window title or worse,
a carriage return overwrites what the line said. So every place that prints network text passes it
through `printable()` first, which shows each control character visibly instead (`\\x1b`, `\\x9b`), and
`cut()` keeps a long value from taking over a line or a table column.
"""

from __future__ import annotations

_ESCAPES: dict[int, str] = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}
"""C0 controls (ESC, BEL, CR, LF, TAB, ...), DEL and the C1 controls (0x9b is CSI, a one-character
ESC [): Unicode's category Cc, exactly."""
_ESCAPES.update({c: f"\\u{c:04x}" for c in range(0xD800, 0xE000)})
"""Lone surrogates (JSON's "\\ud800" decodes to one): they cannot be encoded, so printing one raises."""


def printable(text: str) -> str:
    """`text` with every control character (and lone surrogate) written out as an escape, so that
    printing it shows it instead of obeying it. A string with none is returned as it is."""
    return text.translate(_ESCAPES)


def printable_json(text: str) -> str:
    """JSON text made by `json.dumps` (with its default `ensure_ascii`, which escapes every other
    control character) with DEL escaped too: still the same JSON, now safe on a terminal."""
    return text.replace("\x7f", "\\u007f")


ELLIPSIS = "…"


def cut(text: str, limit: int) -> str:
    """`text` at most `limit` characters long: a longer one keeps its start and its end, joined by an
    ellipsis (ids often differ only at the end: `fleet-00001`, `fleet-00002`)."""
    if len(text) <= limit:
        return text
    if limit < 2:
        return ELLIPSIS[:limit]
    tail = (limit - 1) // 2
    return text[: limit - 1 - tail] + ELLIPSIS + (text[-tail:] if tail else "")
