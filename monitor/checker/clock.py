"""The checker's clock and its timers: what time it is for the checker, and which device has something due.

Time: every timer (reorder, command, the hold at a boot's start) runs on the monotonic arrival time a
recording line carries (`m`); the wall time (`t`) is only shown. A line without `m` (an old recording, or
a monotonic clock that went back: a reboot of the monitor's machine between two runs) falls back to the
wall time, never going back. When the wall and monotonic clocks disagree between two lines by more than
`CLOCK_STEP_S`, that is a `clock_step` note, never a device's fault.

Timers: one per device at most (`Device.scheduled`: its earliest due time), in a heap; `advance(now)`
hands each device whose time has come to `expire(dev, now)`, which judges what is due and schedules the
next (`schedule()`). What is due (a gap, a hold, a command) is the other parts' business.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable

from monitor import findings as F
from monitor.checker.devices import INF, Device

CLOCK_STEP_S = 1.0
"""Wall and monotonic time between two lines disagreeing by more than this is a step of the wall clock (a
`clock_step` note). NTP slews by well under a millisecond a second; a clock set by hand, a virtual machine
resumed, or a laptop woken from sleep disagrees by seconds or more."""


class Clock:
    """The checker's time (`now`), the mapping of each line's arrival to it (`when()`), and the timers."""

    __slots__ = ("e", "wall", "mono", "off", "woff", "now", "started", "next_timer", "_timers", "_timer_seq",
                 "_devices", "_emit")

    def __init__(self, devices: dict[str, Device], emit: Callable[[F.Finding], None]) -> None:
        self.e: float | None = None                # the checker's time of the last line
        self.wall = INF                            # its wall time (none yet: no line is at or after it)
        self.mono: float | None = None             # its monotonic time (None: that line had none)
        self.off: float | None = None              # checker's time - monotonic time, in the current epoch
        self.woff = 0.0                            # checker's time - wall time, for lines without monotonic time
        self.now: float | None = None              # the checker's time: the latest of arrivals and `advance()`s
        self.started: float | None = None          # the first arrival
        self.next_timer = INF                      # when the first timer is due (INF: none)
        self._timers: list[tuple[float, int, str]] = []
        self._timer_seq = 0
        self._devices = devices
        self._emit = emit

    def when(self, wall: float, mono: float | None, line: int) -> float:
        """The checker's time of line `line`, which arrived at `wall` (epoch seconds) and `mono` (monotonic
        seconds, None when the line has none): the monotonic time, shifted to start where the wall time did;
        the wall time (shifted likewise) where there is no monotonic time to follow. Never goes back. A
        disagreement between the two clocks is a `clock_step` note. (`Checker.feed_lines()` has the common case
        of a line without `mono` in short.)"""
        e0 = self.e
        if e0 is None:
            e = wall
            self.woff = 0.0
            if mono is not None:
                self.off = wall - mono
        elif mono is not None and self.mono is not None and mono >= self.mono:
            e = mono + self.off  # type: ignore[operator]
            step = (wall - self.wall) - (e - e0)
            if step > CLOCK_STEP_S or step < -CLOCK_STEP_S:
                self._clock_step(step, self.wall, wall, line, "")
            if e < e0:
                e = e0
            self.woff = e - wall
        else:
            e = wall + self.woff
            if e < e0:  # the wall clock went back: wait for it to catch up
                e = e0
                self.woff = e0 - wall
            if mono is not None:  # a new monotonic epoch: the first line with one, or the clock began again
                if self.mono is not None:
                    self._clock_step(None, self.wall, wall, line, " (the monotonic clock began again: the monitor's "
                                                                  "machine restarted; the wall clock bridges the two)")
                self.off = e - mono
            elif wall - self.wall < -CLOCK_STEP_S:
                self._clock_step(wall - self.wall, self.wall, wall, line, " (this line has no monotonic time: the "
                                                                          "checker's clock waits for the wall "
                                                                          "clock to catch up)")
        self.e, self.wall, self.mono = e, wall, mono
        return e

    def _clock_step(self, step: float | None, before: float, after: float, line: int, why: str) -> None:
        """A `clock_step` note between the line before `line` (at wall time `before`) and `line` (`after`)."""
        what = f"the wall clock stepped by {step:+.3f} s" if step is not None else "the clocks were re-anchored"
        self._emit(F.Finding(F.CLOCK_STEP, f"{what} between two arrivals{why}; the timers run on the monotonic "
                                           "clock: nothing is blamed on the devices",
                             messages=(F.Ref(max(line - 1, 0), before), F.Ref(line, after)),
                             error=False, info={"step_s": None if step is None else round(step, 3)}))

    def from_monotonic(self, mono: float) -> float | None:
        """The checker's time at the monotonic time `mono` (None when it cannot say: no line with a monotonic
        time yet in this epoch, or `mono` is before the last line's)."""
        if self.off is not None and self.mono is not None and mono >= self.mono:
            return mono + self.off
        return None

    def schedule(self, dev: Device, at: float | None) -> None:
        """`dev` has something due at `at` (None: nothing); only its earliest timer counts."""
        if at is None or (dev.scheduled is not None and dev.scheduled <= at):
            return
        dev.scheduled = at
        self._timer_seq += 1
        heapq.heappush(self._timers, (at, self._timer_seq, dev.name))
        self.next_timer = self._timers[0][0]

    def advance(self, now: float, expire: Callable[[Device, float], None]) -> None:
        """Time is now `now`: each device whose timer is due goes to `expire(dev, now)`, earliest first."""
        if self.now is None or now > self.now:
            self.now = now
        timers = self._timers
        while timers and timers[0][0] <= now:
            at, _, name = heapq.heappop(timers)
            dev = self._devices.get(name)
            if dev is None or dev.scheduled != at:
                continue  # superseded by an earlier timer
            dev.scheduled = None
            expire(dev, now)
        self.next_timer = timers[0][0] if timers else INF


def clock_span(start: float, end: float) -> str:
    """`from HH:MM:SS.mmm to HH:MM:SS.mmm` (local time), with the dates when the two are on different days."""
    days = time.strftime("%Y-%m-%d", time.localtime(start)) != time.strftime("%Y-%m-%d", time.localtime(end))
    fmt = "%Y-%m-%d %H:%M:%S" if days else "%H:%M:%S"

    def show(t: float) -> str:
        return time.strftime(fmt, time.localtime(t)) + f".{int(t * 1000) % 1000:03d}"

    return f"at {show(start)}" if start == end else f"from {show(start)} to {show(end)}"
