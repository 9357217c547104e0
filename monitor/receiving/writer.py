"""The recording's writer (in the receiver process): appends records to the recording file, in the format
`monitor.recording` owns, on an `O_APPEND` descriptor, handing lines to the kernel at most `FLUSH_S` seconds
after they were written (one `write(2)` per batch instead of per line), so a recorder killed with SIGKILL
loses at most its last few milliseconds of messages, and the file holds only whole lines (at worst the last
one torn). It holds the file's lock while it writes: one recorder per file.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time
from pathlib import Path

from monitor.errors import RecordingError
from monitor.record import Record
from monitor.recording import Mark, decode_item, encode, encode_mark

FLUSH_S = 0.002
"""A written line reaches the kernel (the file) at most this long after `Writer.write()`, provided the
owner calls `Writer.flush_due()` on time (a SIGKILL loses no more)."""
FLUSH_BYTES = 1 << 16
"""... or as soon as this much is waiting, whichever comes first."""


class Writer:
    """Appends records to a recording on an `O_APPEND` descriptor. Lines wait in the process for at most
    `FLUSH_S` seconds and are handed to the kernel together, one `write(2)` per batch: the owner's loop
    calls `flush_due()` at `flush_at` (no thread of its own, so nothing competes with the owner for the
    interpreter). One owner, one thread.

    The writer holds an exclusive `flock` on the file while it is open, taken before anything is read or
    written: a second writer on the same file (another recorder) refuses at once (`RecordingError`)
    instead of interleaving its copy of every message. The lock lives exactly as long as the descriptor
    that writes, so it is released however the owner ends, even by SIGKILL.

    When a write fails (a full disk), the file keeps only whole lines: a line written in part is cut off
    again (`ftruncate`), `count` is corrected to the records that are in the file, and every later
    `write()` fails too (`lost` counts what was not recorded)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.count = 0
        """Records written by this writer (once a write failed: exactly those in the file)."""
        self.marks = 0
        """The recorder's own `Mark` lines written by this writer (lines, not messages)."""
        self.first_line = 1
        """The line number the first record written now gets (an existing file is appended to)."""
        self.offset = 0
        """The byte offset in the file where this writer's first line goes."""
        self.flush_at: float | None = None
        """When (`time.monotonic()`) what waits must be written; None while nothing waits."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            self._lock(self._fd)  # before reading or writing anything: a refused writer touches nothing
            self.first_line = 1 + self._existing_lines(self._fd)
            self.offset = os.lseek(self._fd, 0, os.SEEK_END)
        except OSError as exc:
            raise RecordingError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        self._buf = bytearray()                   # written, not yet handed to the kernel
        self._waiting = 0                         # records in `_buf`
        self.lost = 0
        """Records given to `write()` that are not in the file: a write failed (`failure`)."""
        self.failure: str | None = None
        """Why writing failed, once it did: every `write()` then fails."""

    def _lock(self, fd: int) -> None:
        """Take the file's lock, or close `fd` and raise `RecordingError`. Only a regular file is locked:
        `--out /dev/null` (output without a recording) may be given to any number of recorders."""
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            self._fd = None
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise RecordingError(f"{self.path} is being recorded already (another recorder holds its lock); "
                                     f"record to another file") from None
            raise

    @staticmethod
    def _existing_lines(fd: int) -> int:
        """Lines already in the file; a torn last line (a killed recorder) is ended first, so that
        nothing is glued onto it: it stays one bad line, reported by `check`."""
        lines, last = 0, b"\n"
        os.lseek(fd, 0, os.SEEK_SET)
        while chunk := os.read(fd, 1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
        if last != b"\n":
            os.write(fd, b"\n")
            lines += 1
        return lines

    def mark(self, mark: Mark) -> None:
        """Append the recorder's own `mark` (a line, not a message: counted in `marks`, not `count`)."""
        if self._fd is None:
            raise RecordingError(f"cannot write {self.path}: the recording is closed")
        if not self._buf:
            self.flush_at = time.monotonic() + FLUSH_S
        self._buf += encode_mark(mark)
        self.marks += 1

    def write(self, record: Record) -> int:
        """Append `record` (in the file by `flush_at`); the number of the line it became."""
        if self._fd is None:
            raise RecordingError(f"cannot write {self.path}: the recording is closed")
        if self.failure is not None:
            self.lost += 1
            raise RecordingError(self._failed())
        buf = self._buf
        if not buf:
            self.flush_at = time.monotonic() + FLUSH_S
        buf += encode(record)
        self._waiting += 1
        self.count += 1  # (a failed flush takes back what it could not write)
        if len(buf) >= FLUSH_BYTES:
            self.flush()
        return self.first_line + self.count + self.marks - 1

    def flush_due(self, now: float) -> bool:
        """Write out what waits if its time has come by `now` (`time.monotonic()`); whether it did."""
        if self.flush_at is None or now < self.flush_at:
            return False
        self.flush()
        return True

    def flush(self) -> None:
        """Hand everything waiting to the kernel now; `RecordingError` when that fails (what waited is
        dropped: the file keeps only whole lines from before)."""
        self.flush_at = None
        if not self._buf or self._fd is None:
            return
        data = memoryview(self._buf)
        done = 0
        try:
            while done < len(data):  # a short write (a full disk, a signal): finish
                done += os.write(self._fd, data[done:])
        except OSError as exc:
            self._write_failed(exc, done)
            raise RecordingError(self._failed()) from None
        finally:
            data.release()
            self._buf.clear()
            self._waiting = 0

    def _write_failed(self, exc: OSError, done: int) -> None:
        """`write(2)` took `done` bytes of the batch, then failed with `exc`: keep the whole lines among
        them (cut a part line off the file again), and count what is not in the file."""
        assert self._fd is not None
        whole = self._buf.rfind(b"\n", 0, done) + 1
        in_file = sum(1 for line in bytes(self._buf[:whole]).split(b"\n")[:-1] if type(decode_item(0, line)) is Record)
        lost = self._waiting - in_file
        self.lost += lost
        self.count -= lost
        self.marks -= self._buf.count(b"\n", whole) - lost  # (the recorder's own lines that did not fit)
        reason = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
                  errno.EFBIG: "the file is as large as it may be"}.get(exc.errno or 0, exc.strerror or str(exc))
        if done > whole:  # a line in part: a reader must never take it for a recorder killed mid-write
            try:
                os.ftruncate(self._fd, os.fstat(self._fd).st_size - (done - whole))
            except OSError:
                reason += "; its last line is cut short"
        self.failure = f"cannot write {self.path}: {reason}"

    def _failed(self) -> str:
        """The error once writing failed: why, and how many messages that arrived are not in the file."""
        return f"{self.failure}; {self.lost} message{'' if self.lost == 1 else 's'} received but not recorded"

    def close(self) -> None:
        """Write out what waits and close (idempotent); `RecordingError` when that write fails."""
        if self._fd is None:
            return
        try:
            self.flush()
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
