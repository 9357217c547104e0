"""The `select` module of the virtual board: the unix port's own, with a poll object whose
waits let pending IRQ handlers and the watchdog run (asyncio waits in poll.ipoll), as on a
real Pico. Waits are cut into slices only while an IRQ poller or a watchdog is running.
"""

import _simbuiltin
import _simwait

_poll = _simbuiltin.reexport("select", globals()).poll   # the built-in's names, re-exported
_time = _simbuiltin.load("time")


class _Poll:
    def __init__(self):
        self._p = _poll()

    def register(self, obj, eventmask=POLLIN | POLLOUT):
        self._p.register(obj, eventmask)

    def unregister(self, obj):
        self._p.unregister(obj)

    def modify(self, obj, eventmask):
        self._p.modify(obj, eventmask)

    def poll(self, timeout=-1):
        return self._wait(timeout, 0)

    def ipoll(self, timeout=-1, flags=0):
        if _simwait.slice_ms(-1) < 0:
            return self._p.ipoll(timeout, flags)
        return self._wait(timeout, flags)

    def _wait(self, timeout, flags):
        timeout = -1 if timeout is None else int(timeout)
        if timeout >= 0:
            end = _time.ticks_add(_time.ticks_ms(), timeout)
        while True:
            left = -1 if timeout < 0 else max(_time.ticks_diff(end, _time.ticks_ms()), 0)
            # ipoll reuses one tuple for every result, so copy each before the next step.
            ready = [tuple(r) for r in self._p.ipoll(_simwait.slice_ms(left), flags)]
            _simwait.check()
            if ready or left == 0:
                return ready
            # Returning to this loop lets the VM run handlers that were scheduled meanwhile.


def poll():
    return _Poll()
