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
        return self._wait(timeout, 0) or []

    def ipoll(self, timeout=-1, flags=0):
        if _simwait.slice_ms(-1) < 0:
            return self._p.ipoll(timeout, flags)
        return self._wait(timeout, flags) or ()  # (): no allocation; iterates as the built-in's answer

    def _wait(self, timeout, flags):
        """A list of the ready (object, events) pairs, each copied, or None if the wait ends with none."""
        timeout = -1 if timeout is None else int(timeout)
        if timeout >= 0:
            end = _time.ticks_add(_time.ticks_ms(), timeout)
        while True:
            left = -1 if timeout < 0 else max(_time.ticks_diff(end, _time.ticks_ms()), 0)
            # ipoll reuses one tuple for every result, so copy each before the next step; and as
            # asyncio waits here on every pass of its scheduler, a wait that ends with nothing
            # ready allocates nothing.
            ready = None
            for r in self._p.ipoll(_simwait.slice_ms(left), flags):
                if ready is None:
                    ready = []
                ready.append(tuple(r))
            _simwait.check()
            if ready is not None or left == 0:
                return ready
            # Returning to this loop lets the VM run handlers that were scheduled meanwhile.


def poll():
    return _Poll()
