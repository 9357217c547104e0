"""A live monitoring session (runs in the `record`/`watch` process), in two processes: a receiver
(`monitor.receiving`, a child) subscribes and appends every message to the recording; this process follows the recording as it grows and feeds each
line to the streaming checker, in order. The checker runs on another core than the receiver, and checks
exactly what was recorded: the live findings are those `check` finds in the same file later.

The checker's clock is the receiver's word: after each write the receiver says how many lines are in the
file and that every message which arrived before time T is among them; only then is the checker told
that it is T (a gap is never called lost while its filler still waits to be written). With nothing
arriving, the receiver says so every 0.1 s, so gaps and commands still time out.

When the receiver loses its broker it keeps reconnecting (for ever, unless `reconnect_for` is given) and
says so (`broker` events): `broker_gone` is when it went, `unknown_before` when it last went, so the
view shows every device not heard from since as unknown (its `online` is the broker's old word).

`Session` is driven by its owner's loop (`poll()`), one thread; `record` and `watch` are thin shells.
"""

from __future__ import annotations

import itertools
import json
import os
import select
import subprocess
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from monitor import findings as F
from monitor.receiving import receiver
from monitor.checker import COMMAND_TIMEOUT, MAX_DEVICES, REORDER_TIMEOUT, Checker, Device
from monitor.errors import MonitorError, RecordingError
from monitor.live.follow import Follower
from monitor.mqtt import Security
from monitor.record import Record
from monitor.recording import decode_item, text_fields

RECENT = 200
"""Findings kept for display (the newest); counts of all of them are kept by the checker."""
START_TIMEOUT = 30.0
"""How long the receiver may take to open the recording (a large existing file is counted first)."""
STOP_TIMEOUT = 10.0
"""How long the receiver may take to end after being asked (then it is terminated, then killed)."""


class Session:
    def __init__(self, path: Path, broker: str, *, session: str | None = None, duration: float | None = None,
                 reconnect_for: float | None = None, reorder_timeout: float = REORDER_TIMEOUT,
                 command_timeout: float = COMMAND_TIMEOUT, on_record: Callable[[Record], None] | None = None,
                 on_finding: Callable[[F.Finding], None] | None = None,
                 on_subscribed: Callable[[], None] | None = None, notice: Callable[[str], None] | None = None,
                 max_devices: int = MAX_DEVICES, view: bool = False, security: Security | None = None) -> None:
        self.path = path
        self.config: dict[str, Any] = {"out": str(path), "broker": broker, "session": session,
                                       "duration": duration, "reconnect_for": reconnect_for,
                                       **(security or Security()).config()}
        self._password = security.password if security else None  # for the receiver: in its environment
        self.security = security or Security()
        """The login (`watch`'s keys send commands with it)."""
        self.recent: deque[F.Finding] = deque(maxlen=RECENT)
        self._on_record = on_record
        self._on_finding = on_finding
        self._on_subscribed = on_subscribed
        self._notice = notice or (lambda text: None)
        self.checker = Checker(reorder_timeout=reorder_timeout, command_timeout=command_timeout,
                               on_finding=self._found, max_devices=max_devices, view=view)
        self.count = 0
        """Messages the receiver recorded so far (as it said)."""
        self.lag = 0.0
        """The longest a message waited, from its arrival (its `t`) until it was checked, in seconds."""
        self.subscribed = False
        self.broker_gone: float | None = None
        """Since when (wall clock) the receiver has been without its broker; None while connected."""
        self.unknown_before: float | None = None
        """When the broker was last lost (wall clock): what a device said before then may be out of date."""
        self.ended: str | None = None
        """How the receiver ended ("stopped", "time is up"), once it did."""
        self.failure: str | None = None
        """Why the receiver failed (or died), once it did."""
        self._proc: subprocess.Popen[bytes] | None = None
        self._follower: Follower | None = None
        self._first_line = 1
        self._pending = b""                        # an event line not yet complete
        self._eof = False
        self._stop_asked = False
        self._stop_sent: float | None = None

    # --- the receiver ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the receiver and wait until the recording is open; `MonitorError` if it cannot be."""
        try:
            self._proc = receiver.spawn(self.config, password=self._password)
        except OSError as exc:
            raise MonitorError(f"cannot start the receiver: {exc.strerror or exc}") from None
        deadline = time.monotonic() + START_TIMEOUT
        while self._follower is None and not self._eof:
            left = deadline - time.monotonic()
            if left <= 0:
                self._end_receiver()
                raise MonitorError(f"the receiver did not open {self.path} within {START_TIMEOUT:g} s")
            self._take_events(left)
        if self._follower is None:
            self._end_receiver()
            raise RecordingError(self.failure or f"cannot write {self.path}")

    def stop(self) -> None:
        """Ask the session to end (the receiver stops, the rest of the recording is checked). Safe from
        a signal handler: it only sets a flag, which `poll()` acts on."""
        self._stop_asked = True

    def poll(self, timeout: float) -> bool:
        """Wait at most `timeout` seconds for the receiver; take in what it says and what it recorded.
        False once the receiver is gone and everything it recorded was checked."""
        if self._eof:
            return False
        if self._stop_asked and self._stop_sent is None:
            self._stop_sent = time.monotonic()
            self._close_stdin()
        if self._stop_sent is not None and time.monotonic() - self._stop_sent > STOP_TIMEOUT:
            self._end_receiver()
        else:
            self._take_events(timeout)
        if self._eof:
            self._finish()
            return False
        return True

    def _close_stdin(self) -> None:
        if self._proc is not None and self._proc.stdin is not None and not self._proc.stdin.closed:
            try:
                self._proc.stdin.close()
            except OSError:
                pass

    def _end_receiver(self) -> None:
        """Make sure the receiver is gone: asked, then terminated, then killed (each bounded)."""
        proc = self._proc
        if proc is None:
            return
        self._close_stdin()
        for end in (None, proc.terminate, proc.kill):
            if end is not None:
                end()
            try:
                proc.wait(timeout=STOP_TIMEOUT / 2)
                break
            except subprocess.TimeoutExpired:
                continue
        if proc.stdout is not None:
            proc.stdout.close()
        self._eof = True

    def _take_events(self, timeout: float) -> None:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        fd = proc.stdout.fileno()
        if not select.select([fd], [], [], max(0.0, timeout))[0]:
            self._take_lines()
            return
        data = os.read(fd, 1 << 16)
        if not data:
            self._eof = True
            return
        lines = (self._pending + data).split(b"\n")
        self._pending = lines.pop()
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                event = None
            if isinstance(event, dict):
                self._event(event)
            elif line.strip():  # not an event: something in the receiver printed to stdout
                self._notice(f"receiver: {line.decode('utf-8', 'replace')}")

    def _event(self, event: dict[str, Any]) -> None:
        if "flushed" in event:
            self.count = event.get("messages", event["flushed"])
            self._take_lines(event["flushed"])
            self.checker.advance_monotonic(event["upto"])  # the receiver's monotonic clock
        elif "opened" in event:
            self._first_line = event["opened"]["line"]
            self._follower = Follower(self.path, event["opened"]["offset"], self._first_line)
        elif "subscribed" in event:
            self.subscribed = True
            if self._on_subscribed is not None:
                self._on_subscribed()
        elif "broker" in event:
            if event["broker"] == "disconnected":
                self.broker_gone = self.broker_gone or event["t"]
                self.unknown_before = event["t"]
            else:
                self.broker_gone = None
        elif "notice" in event:
            self._notice(event["notice"])
        elif "ended" in event:
            self.ended, self.count = event["ended"], event["count"]
        elif "failed" in event:
            self.failure, self.count = event["failed"], event["count"]

    def _finish(self) -> None:
        """The receiver closed its events: wait for it to exit, check the rest of the recording."""
        proc = self._proc
        assert proc is not None
        try:
            status = proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._end_receiver()
            status = proc.returncode
        if self.ended is None and self.failure is None:
            self.failure = f"the receiver stopped unexpectedly (exit status {status})"
        follower = self._follower
        if follower is None:
            return
        self._take_lines(None)
        rest = follower.rest()
        if rest and _size(self.path) < follower.offset:
            rest = b""  # a line written in part on a full disk, which the receiver cut off the file again
        if rest:  # the receiver died in the middle of a line
            self._feed(rest, follower.line)
        follower.close()

    # --- the recording ----------------------------------------------------------------------------------

    def _take_lines(self, upto: int | None = 0) -> None:
        """Check the lines recorded since the last look: until the receiver's line `upto` (its count) is
        checked, and at least what can be read now (None: everything, to the end of the file)."""
        follower = self._follower
        if follower is None:
            return
        while True:
            number = follower.line
            lines = follower.read()
            if not lines:
                return
            if self._on_record is None:
                self.checker.feed_lines(zip(itertools.count(number), lines))
            else:
                for line in lines:
                    self._feed(line, number)
                    number += 1
            arrived = _arrival(lines[0])
            if arrived is not None:  # the first of these waited longest: a bound for all of them
                self.lag = max(self.lag, time.monotonic() - arrived)
            if upto is not None and follower.line - self._first_line >= upto:
                return

    def _feed(self, line: bytes, number: int) -> None:
        item = decode_item(number, line)  # without its newline, a line is torn (what a killed receiver leaves)
        self.checker.feed(item, number)
        if self._on_record is not None and type(item) is Record and not item.topic.startswith("$SYS/"):
            self._on_record(item)

    def _found(self, finding: F.Finding) -> None:
        self.recent.append(finding)
        if self._on_finding is not None:
            self._on_finding(finding)

    # --- what the owner reads -----------------------------------------------------------------------------

    def gone_text(self, now: float | None = None) -> str | None:
        """`broker gone 12 s, reconnecting` (and `for up to N s` with a limit) while the broker is away, as
        `watch` and the dashboard say it; None while connected."""
        if self.broker_gone is None:
            return None
        away = max(0.0, (time.time() if now is None else now) - self.broker_gone)
        limit = self.config.get("reconnect_for")
        return f"broker gone {away:.0f} s, reconnecting" + (f" for up to {limit:g} s" if limit else "")

    def read(self, reader: Callable[[dict[str, Device], deque[F.Finding]], Any]) -> Any:
        """`reader(devices, recent findings)`: what the live view shows."""
        return reader(self.checker.devices, self.recent)

    def tally(self) -> dict[str, list[int]]:
        """kind -> [findings, errors], over every device."""
        total: dict[str, list[int]] = {}
        for table in (self.checker.loose_tally, *(d.tally for d in self.checker.devices.values())):
            for kind, (n, e) in table.items():
                got = total.setdefault(kind, [0, 0])
                got[0] += n
                got[1] += e
        return total


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _arrival(line: bytes) -> float | None:
    """When the message on a recording line arrived, on the monotonic clock (None for a line that is not a
    record, or has no monotonic time)."""
    fields = text_fields(line)
    if fields is not None:
        return fields[4]
    item = decode_item(0, line)
    return item.mono if type(item) is Record else None


def tally_text(tally: dict[str, list[int]]) -> str:
    """`2 lost, 1 reboot` in vocabulary order, or `none`."""
    parts = [f"{tally[kind][0]} {kind}" for kind in F.KINDS if kind in tally]
    return ", ".join(parts) if parts else "none"
