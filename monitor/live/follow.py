"""Following a recording while another process (the receiver) appends to it, in the `record`/`watch`
process: the complete lines that arrived since the
last look, in order, numbered; a last line without its newline waits for the rest, and is handed over
as it is only at the end (`rest()`: what a writer killed mid-line leaves)."""

from __future__ import annotations

import os
from pathlib import Path

from monitor.errors import RecordingError

CHUNK = 1 << 20
"""The most one `read()` takes in, so the owner's loop stays responsive during a backlog."""


class Follower:
    def __init__(self, path: str | Path, offset: int = 0, first_line: int = 1) -> None:
        self.path = Path(path)
        self.line = first_line
        """The number of the next line `read()` hands over."""
        self.offset = offset
        """Bytes of the file consumed so far (complete lines, and the start of a line still waiting)."""
        try:
            self._fd: int | None = os.open(self.path, os.O_RDONLY)
        except OSError as exc:
            raise RecordingError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        self._partial = b""

    def read(self) -> list[bytes]:
        """The complete lines (each with its newline) appended since the last call, at most about `CHUNK`
        bytes of them; the first is line `self.line` (as it was before this call)."""
        if self._fd is None:
            return []
        try:
            data = os.pread(self._fd, CHUNK, self.offset)
        except OSError as exc:
            raise RecordingError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        if not data:
            return []
        self.offset += len(data)
        if self._partial:
            data = self._partial + data
        end = data.rfind(b"\n") + 1
        self._partial = data[end:]
        if not end:
            return []
        lines = [line + b"\n" for line in data[:end - 1].split(b"\n")]  # (`splitlines()` also splits at \r)
        self.line += len(lines)
        return lines

    def rest(self) -> bytes:
        """What follows the last complete line (call once everything was read: the writer is gone)."""
        return self._partial

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
