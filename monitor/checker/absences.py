"""The monitor's own absences, and the broker's word on what it dropped: what is nobody's fault on the device.

The recorder writes a `Mark` line when it loses its broker (`disconnected`) and when it is back and
subscribed again (`reconnected`): what the nodes published meanwhile was never seen, so a gap that overlaps
such an absence is `unseen` ("not seen while the monitor was away"), not `lost` (the ordering asks
`during()`). A `$SYS/broker/publish/messages/dropped` counter (Mosquitto) that rises is a `broker_dropped`
note.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from monitor import findings as F
from monitor.checker.devices import INF
from monitor.record import Record
from monitor.recording import Mark as RecorderMark

AWAY_KEPT = 64
"""The recorder's most recent absences remembered (to tell a gap that overlaps one from a loss)."""
BROKER_DROPPED_TOPIC = "$SYS/broker/publish/messages/dropped"
"""Where Mosquitto (2.0) says how many messages it dropped (queues full), every `sys_interval` seconds."""


class Absences:
    __slots__ = ("away", "since", "broker_dropped", "_emit")

    def __init__(self, emit: Callable[[F.Finding], None]) -> None:
        self.away: deque[tuple[float, float, float, float]] = deque(maxlen=AWAY_KEPT)
        """The recorder's absences: (from, to) on the checker's clock, (from, to) by the wall clock."""
        self.since: tuple[float, float] | None = None
        """Away since (checker's clock, wall clock), and not back yet."""
        self.broker_dropped: int | None = None
        """The broker's last word on messages it dropped."""
        self._emit = emit

    def recorder(self, mark: RecorderMark, e: float, last: tuple[float | None, float]) -> None:
        """The recorder lost its broker (`disconnected`) or has it back (`reconnected`), at `e` on the checker's
        clock. `last`: the time of the line before (checker's clock, wall clock)."""
        if mark.event == "disconnected":
            if self.since is None:
                self.since = (e, mark.t)
            return
        since = self.since
        if since is None:  # back with no word of leaving (its receiver killed first?): away since the line before
            since = (e, mark.t) if last[0] is None else (last[0], last[1])
        self.since = None
        self.away.append((since[0], e, since[1], mark.t))

    def during(self, start: float, end: float) -> tuple[float, float] | None:
        """The recorder's absence (wall clock from, to; INF: not back yet) overlapping the time from `start` to
        `end` (checker's clock), if any."""
        if not self.away and self.since is None:
            return None
        for a_from, a_to, w_from, w_to in reversed(self.away):
            if a_from <= end and a_to >= start:
                return w_from, w_to
        if self.since is not None and self.since[0] <= end:
            return self.since[1], INF
        return None

    def dropped_count(self, record: Record, line: int) -> None:
        """Mosquitto's count of messages it dropped (any client's queue full: perhaps ours)."""
        try:
            now = int(record.payload.decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            self._emit(F.Finding(F.MALFORMED, f"line {line}: {record.topic}: not a count",
                                 messages=(F.Ref(line, record.t, record.topic),)))
            return
        before = self.broker_dropped
        self.broker_dropped = now
        if before is not None and now > before:
            self._emit(F.Finding(F.BROKER_DROPPED, f"the broker says it dropped {now - before} message(s) "
                                                   f"({record.topic} went from {before} to {now}): queues full, "
                                                   "perhaps the monitor's own (see docs/monitor.md on sizing the "
                                                   "broker's queue); messages lost meanwhile may be among them",
                                 messages=(F.Ref(line, record.t, record.topic),), error=False, count=now - before,
                                 info={"before": before, "after": now}))
