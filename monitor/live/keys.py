"""`watch`'s keyboard (in the `record`/`watch` process): on a terminal, stdin in cbreak mode (each key as it
is typed, no echo; Ctrl-C still interrupts), read without waiting between redraws, and the terminal's
settings put back however `watch` ends. Not a terminal (a pipe, /dev/null): no keys at all.

`parse()` is pure: the bytes a terminal sends, as key names (`up`, `down`, or the character typed).
"""

from __future__ import annotations

import os
import select
import sys
from typing import Any

try:
    import termios
    import tty
except ImportError:  # Windows: no cbreak mode here, so `watch` runs without keys
    termios = tty = None  # type: ignore[assignment]

ARROWS = {b"\x1b[A": "up", b"\x1b[B": "down", b"\x1bOA": "up", b"\x1bOB": "down",
          b"\x1b[C": "right", b"\x1b[D": "left", b"\x1bOC": "right", b"\x1bOD": "left"}


def parse(data: bytes) -> list[str]:
    """The keys in `data`: arrows by name, printable characters as themselves; other escapes dropped."""
    keys: list[str] = []
    i = 0
    while i < len(data):
        if data[i] == 0x1b:
            seq = data[i:i + 3]
            if seq in ARROWS:
                keys.append(ARROWS[seq])
                i += 3
                continue
            # Another escape sequence (a function key, ...): skip it whole, up to its final letter or `~`.
            j = i + 1
            if j < len(data) and data[j] in b"[O":
                j += 1
                while j < len(data) and not (0x40 <= data[j] <= 0x7e):
                    j += 1
                j += 1
            i = j
            continue
        char = chr(data[i]) if data[i] < 0x80 else ""
        if char.isprintable() and char:
            keys.append(char)
        i += 1
    return keys


class Keys:
    """The keys typed at the terminal on stdin (`read()`); a no-op when stdin is not a terminal."""

    def __init__(self, fd: int | None = None) -> None:
        self.fd = sys.stdin.fileno() if fd is None else fd
        self.active = False
        self._saved: Any = None
        try:
            self.active = termios is not None and os.isatty(self.fd)
        except OSError:
            self.active = False

    def __enter__(self) -> Keys:
        if self.active:
            try:
                self._saved = termios.tcgetattr(self.fd)
                tty.setcbreak(self.fd)
            except termios.error:
                self.active = False
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved is not None:
            try:
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            except termios.error:
                pass
            self._saved = None

    def read(self) -> list[str]:
        """The keys typed since the last call (never waits)."""
        if not self.active:
            return []
        data = b""
        while select.select([self.fd], [], [], 0)[0]:
            try:
                chunk = os.read(self.fd, 256)
            except OSError:
                self.active = False  # the terminal is gone
                break
            if not chunk:
                self.active = False
                break
            data += chunk
            if len(data) > 4096:
                break
        return parse(data)
