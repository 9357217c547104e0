"""How long a blocking wait may block in one go, so the board's background duties get a turn.

On a real board a pending IRQ handler runs while the program sleeps or waits in asyncio's poll,
and the watchdog bites at its deadline. The unix port runs scheduled handlers only between
bytecodes, so the stand-in `time.sleep*` and `select.poll` cut their waits into slices: short
ones while an IRQ poller is running, and none longer than the time left before the watchdog's
deadline, which is checked after each slice. Without IRQs or a watchdog a wait is not cut.
"""

from micropython import const

import _simboard
import _simbuiltin

_time = _simbuiltin.load("time")
_IRQ_SLICE_MS = const(5)  # the latency of an IRQ handler while the program waits

# [IRQ poller running, watchdog timeout in ms (0 = no watchdog), ticks_ms of the last feed]
_state = [False, 0, 0]


def irq_started():
    _state[0] = True


def watchdog(ms):
    """Start (or re-arm with a new timeout, `ms`) the watchdog, fed now."""
    _state[1] = ms
    _state[2] = _time.ticks_ms()


def feed():
    """Feed the watchdog; a feed later than its timeout means the real board had already reset."""
    check()
    _state[2] = _time.ticks_ms()


def check():
    """End the program as the watchdog would have, if it is overdue."""
    if _state[1] and _time.ticks_diff(_time.ticks_ms(), _state[2]) > _state[1]:
        _simboard.stop(3, "watchdog would have reset the board")


def slice_ms(ms):
    """How many ms the next blocking step of a wait with `ms` to go may take
    (a negative `ms` means wait forever; so does a negative answer)."""
    limit = _IRQ_SLICE_MS if _state[0] else -1
    if _state[1]:
        due = _time.ticks_diff(_time.ticks_add(_state[2], _state[1]), _time.ticks_ms()) + 1
        due = max(due, 0)
        limit = due if limit < 0 else min(limit, due)
    if limit < 0:
        return ms
    if ms < 0:
        return limit
    return min(ms, limit)
