"""Milliseconds since boot that never wrap.

`time.ticks_ms()` wraps (every 2**30 ms, about 12 days, on the Pico), so the uptime is summed from
tick differences; a difference is exact while calls come less than about 6 days apart, which the
logger task's once-a-second call guarantees.
"""

import time

_last = time.ticks_ms()
_total = 0


def uptime_ms():
    global _last, _total
    now = time.ticks_ms()
    _total += time.ticks_diff(now, _last)
    _last = now
    return _total
