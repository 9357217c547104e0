"""A live monitoring session: every received message is appended to the recording and fed to the
streaming checker, in arrival order, as it arrives; the wall clock ticks the checker in between, so a
gap or a command whose time is up is judged even when nothing else arrives.

`Session` owns the recording writer and the checker (one lock guards both: paho's thread feeds them,
the owner's thread ticks them and reads the device views). `record` and `watch` are thin shells over it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from monitor import findings as F
from monitor.checker import COMMAND_TIMEOUT, REORDER_TIMEOUT, Checker, Device
from monitor.record import Record
from monitor.recording import Writer

RECENT = 200
"""Findings kept for display (the newest); counts of all of them are kept by the checker."""


class Session:
    def __init__(self, writer: Writer, *, reorder_timeout: float = REORDER_TIMEOUT,
                 command_timeout: float = COMMAND_TIMEOUT, on_record: Callable[[Record], None] | None = None,
                 on_finding: Callable[[F.Finding], None] | None = None) -> None:
        self.writer = writer
        self.lock = threading.Lock()
        self.recent: deque[F.Finding] = deque(maxlen=RECENT)
        self._on_record = on_record
        self._on_finding = on_finding
        self.checker = Checker(reorder_timeout=reorder_timeout, command_timeout=command_timeout,
                               on_finding=self._found)

    def _found(self, finding: F.Finding) -> None:  # called with the lock held
        self.recent.append(finding)
        if self._on_finding is not None:
            self._on_finding(finding)

    def receive(self, record: Record) -> None:
        """One message from the broker (paho's thread): recorded first, then checked."""
        with self.lock:
            line = self.writer.write(record)
            self.checker.feed(record, line)
        if self._on_record is not None:
            self._on_record(record)

    def tick(self, now: float | None = None) -> None:
        """Let the checker judge what timed out by now (the owner's thread)."""
        with self.lock:
            self.checker.advance(time.time() if now is None else now)

    def read(self, reader: Callable[[dict[str, Device], deque[F.Finding]], Any]) -> Any:
        """Run `reader(devices, recent findings)` under the lock: a consistent view for display."""
        with self.lock:
            return reader(self.checker.devices, self.recent)

    def tally(self) -> dict[str, list[int]]:
        """kind -> [findings, errors], over every device."""
        with self.lock:
            total: dict[str, list[int]] = {}
            for table in (self.checker.loose_tally, *(d.tally for d in self.checker.devices.values())):
                for kind, (n, e) in table.items():
                    got = total.setdefault(kind, [0, 0])
                    got[0] += n
                    got[1] += e
            return total


def tally_text(tally: dict[str, list[int]]) -> str:
    """`2 lost, 1 reboot` in vocabulary order, or `none`."""
    parts = [f"{tally[kind][0]} {kind}" for kind in F.KINDS if kind in tally]
    return ", ".join(parts) if parts else "none"
