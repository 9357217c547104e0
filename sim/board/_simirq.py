"""Pin IRQs on the virtual board: a background thread that watches the input levels of the pins
with an IRQ handler and schedules the handler (micropython.schedule, like a real soft IRQ) on
each matching edge, whether the edge comes from the host's pins.in or the press schedule.

machine imports this module at the first Pin.irq(); the thread starts with the first handler
set, and polls every _POLL_MS. This interpreter has
threads without a GIL, so the thread shares nothing mutable with the program except through
single reads and rebinds of list slots: the watch list is an immutable tuple that the program
replaces whole, each watch's last level is touched only by the thread, and handlers run in the
program's own thread, because micropython.schedule always runs them there.
"""

import _thread
import micropython
from micropython import const

import _simboard
import _simbuiltin
import _simwait

_time = _simbuiltin.load("time")
_POLL_MS = const(2)
IRQ_FALLING = const(4)  # rp2 values, as machine.Pin has them
IRQ_RISING = const(8)

_watches = [()]  # a tuple of _Watch; rebound whole by the program, read by the thread
_running = [False]


class _Watch:
    """One pin's IRQ: the pin, its handler and trigger, the level last seen (thread-owned)
    and the edge that fired last (what irq().flags() reports)."""

    def __init__(self, pin, handler, trigger, level):
        self.pin = pin
        self.handler = handler
        self.trigger = trigger
        self.last = level
        self.flags = 0


class PinIRQ:
    """What Pin.irq() returns: flags() is the edge that fired last, trigger() the edges set."""

    def __init__(self, watch):
        self._watch = watch

    def flags(self):
        return self._watch.flags if self._watch else 0

    def trigger(self):
        return self._watch.trigger if self._watch else 0


def watch(pin, handler, trigger):
    """Call handler(pin) on the pin's matching edges from now on (handler None stops it)."""
    others = tuple(w for w in _watches[0] if w.pin.name != pin.name)
    if handler is None or not trigger:
        _watches[0] = others
        return None
    w = _Watch(pin, handler, trigger, pin._level_now(None))
    _watches[0] = others + (w,)
    if not _running[0]:
        _running[0] = True
        _simwait.irq_started()
        _thread.start_new_thread(_poll_forever, (_watches,))
    return w


def _fire(w):
    w.handler(w.pin)


def _poll_forever(watches):
    cache = _simboard.reader()  # this thread's own: see _simboard.driven
    while True:
        items = watches[0]
        if items:
            inputs = _simboard.driven(cache)
            for w in items:
                level = w.pin._level_now(inputs)
                if level == w.last:
                    continue
                edge = IRQ_RISING if level else IRQ_FALLING
                if w.trigger & edge:
                    try:
                        micropython.schedule(_fire, w)
                    except RuntimeError:
                        continue  # the schedule queue is full: retry this edge next round
                    w.flags = edge
                w.last = level
        _time.sleep(_POLL_MS / 1000)
