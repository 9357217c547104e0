"""The `time` module of the virtual board: the unix port's own, with sleeps that let pending
IRQ handlers and the watchdog run while the program sleeps, as on a real Pico.

(The unix port's time.sleep() blocks in select() and runs scheduled handlers only when a
signal interrupts it. Its sleep_ms() does run them, but by waking every millisecond; waiting
in slices of time.sleep() costs less. See _simwait for how long a slice is.)
"""

import _simbuiltin
import _simwait

_time = _simbuiltin.reexport("time", globals())   # the built-in's functions, re-exported


def sleep_ms(ms):
    ms = int(ms)
    if ms <= 0:
        return
    end = ticks_add(ticks_ms(), ms)
    while True:
        left = ticks_diff(end, ticks_ms())
        if left <= 0:
            break
        _time.sleep(_simwait.slice_ms(left) / 1000)
        _simwait.check()
        # Going round this loop lets the VM run IRQ handlers scheduled meanwhile.


def sleep_us(us):
    us = int(us)
    if us >= 1000:
        sleep_ms(us // 1000)
        us %= 1000
    if us > 0:
        _time.sleep_us(us)


def sleep(seconds):
    if _simwait.slice_ms(-1) < 0:
        _time.sleep(seconds)  # nothing to interleave: the built-in's one select()
    else:
        sleep_us(int(seconds * 1000000))
