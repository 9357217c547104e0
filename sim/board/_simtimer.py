"""machine.Timer of the virtual board: the rp2 port's soft timers (extmod machine_timer: id -1
only, ONE_SHOT and PERIODIC, `period` in ms or in ticks of `tick_hz`, or `freq`), on the board's
clock.

A started Timer is an alarm of the board's poller thread (_simirq), which queues the callback
with micropython.schedule when it is due, as the rp2 port's soft timer handler does: it runs
between the program's bytecodes, while the program sleeps or waits in asyncio too, never inside
another callback, a few ms late at most. A periodic timer is due every period from its start,
not from its last call, so it does not drift. machine loads this module at the first use of
machine.Timer: a program without a Timer never holds it.
"""

from micropython import const

import _simirq

_ONE_SHOT = const(1)  # rp2 values (shared/runtime/softtimer.h)
_PERIODIC = const(2)


class Timer:
    ONE_SHOT = _ONE_SHOT
    PERIODIC = _PERIODIC

    def __init__(self, id=-1, **kw):
        if id != -1:
            raise ValueError("Timer doesn't exist")  # the rp2 port has soft timers only
        self._alarm = None
        self._mode = _PERIODIC
        self._period = 1000
        self._callback = None
        if kw:
            self.init(**kw)

    def init(self, *, mode=_PERIODIC, callback=None, period=-1, tick_hz=1000, freq=None, hard=None):
        """Start (or restart) the timer. `hard` is taken and the callback scheduled all the same:
        the unix port cannot run Python inside an interrupt."""
        self.deinit()
        period_ms = self._period
        if freq is not None:
            period_ms = int(1000 / freq)
        elif period != -1:
            period_ms = period * 1000 // tick_hz
        if period_ms < 1:
            period_ms = 1
        elif period_ms >= 0x40000000:
            raise ValueError("period too large")
        self._mode = mode
        self._period = period_ms
        if callback is not None:
            self._callback = callback
        if self._callback is not None:
            self._alarm = _simirq.start_alarm(self, self._callback, period_ms, mode == _PERIODIC)

    def deinit(self):
        if self._alarm is not None:
            _simirq.cancel(self._alarm)
            self._alarm = None

    def __repr__(self):
        return "Timer(mode=%s, period=%u)" % ("ONE_SHOT" if self._mode == _ONE_SHOT else "PERIODIC",
                                              self._period)


def running():
    """Whether a Timer is still to call its callback (what keeps a board whose program has ended
    running, as a Pico's REPL keeps its timers)."""
    return _simirq.alarms_running()
