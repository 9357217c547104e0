"""Pin IRQs and soft timers on the virtual board: a background thread that watches the input
levels of the pins with an IRQ handler and schedules the handler (micropython.schedule, like a
real soft IRQ) on each matching edge, whether the edge comes from the host's pins.in or the press
schedule; and that schedules each machine.Timer's callback when its alarm is due, as the rp2
port's soft timers do (the callback is queued, and runs between the program's bytecodes, never
inside another callback).

machine imports this module at the first Pin.irq() (_simtimer at the first Timer); the thread
starts with the first handler or alarm set, and polls every _POLL_MS. This interpreter has
threads without a GIL, so the thread shares nothing mutable with the program except through
single reads and rebinds of list slots and attributes: the watch and alarm lists are immutable
tuples that the program replaces whole, each watch's last level and each alarm's due time are
touched only by the thread, and handlers run in the program's own thread, because
micropython.schedule always runs them there. They are scheduled themselves, not through a
function of this module, so a traceback from one names only the program's code.
"""

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
_alarms = [()]  # a tuple of _Alarm, the same way
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
    _start()
    return w


class _Alarm:
    """One started Timer: its callback, called with the Timer, every `period` ms (once unless
    `periodic`) from now on. `due` (ticks_ms) is the thread's; `done`, set by the thread after a
    one-shot's call is queued, or by the program at deinit, is True from then on."""

    def __init__(self, timer, callback, period, periodic):
        self.timer = timer
        self.callback = callback
        self.period = period
        self.periodic = periodic
        self.done = False
        self.due = _time.ticks_add(_time.ticks_ms(), period)


def start_alarm(timer, callback, period, periodic):
    """Call callback(timer) `period` ms from now (and every `period` ms after, if `periodic`);
    returns the alarm, for cancel()."""
    a = _Alarm(timer, callback, period, periodic)
    _alarms[0] = tuple(x for x in _alarms[0] if not x.done) + (a,)
    _start()
    return a


def cancel(alarm):
    """Stop an alarm. (A call it already queued still runs, as on the rp2 port.)"""
    alarm.done = True
    _alarms[0] = tuple(x for x in _alarms[0] if not x.done)


def alarms_running():
    """Whether an alarm is still to ring (a periodic one, or a one-shot not yet due)."""
    for a in _alarms[0]:
        if not a.done:
            return True
    return False


def _start():
    if not _running[0]:
        import _simthread  # the interpreter's _thread (the program's is a stand-in)

        _running[0] = True
        _simwait.irq_started()
        _simthread.REAL.start_new_thread(_poll_forever, ())


def _ring(alarms):
    now = _time.ticks_ms()
    for a in alarms:
        if a.done or _time.ticks_diff(now, a.due) < 0:
            continue
        try:
            micropython.schedule(a.callback, a.timer)
        except RuntimeError:
            pass  # the schedule queue is full: this call is lost, as on the rp2 port
        if a.periodic:
            a.due = _time.ticks_add(a.due, a.period)  # from the last due time: no drift
        else:
            a.done = True


def _poll_forever():
    cache = _simboard.reader()  # this thread's own: see _simboard.driven
    while True:
        if _alarms[0]:
            _ring(_alarms[0])
        items = _watches[0]
        if items:
            inputs = _simboard.driven(cache)
            for w in items:
                level = w.pin._level_now(inputs)
                if level == w.last:
                    continue
                edge = IRQ_RISING if level else IRQ_FALLING
                if w.trigger & edge:
                    try:
                        micropython.schedule(w.handler, w.pin)
                    except RuntimeError:
                        continue  # the schedule queue is full: retry this edge next round
                    w.flags = edge
                w.last = level
        _time.sleep(_POLL_MS / 1000)
