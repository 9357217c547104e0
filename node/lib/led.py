"""The LED task, sole owner of the LED pin, and the heartbeat task, owner of the on-board LED.

The LED task sleeps until the blink grid says the level changes or the state wakes it (`led_wake`),
so a press of button A lights the LED at once without polling.

It allocates as little as it can on each blink, since a Pico's heap is small and every byte
allocated is one more for the collector: it reads the state and writes its reading without the
lock (see below) and sleeps with `asyncio.sleep_ms`, which allocates nothing of its own. A wait
"for the event or the next blink edge, whichever comes first" with `asyncio.wait_for_ms` made two
tasks, a closure and a TimeoutError on every blink (about 2 KB on the unix port;
`bench/node_memory.py` measures it). Instead a small watcher task waits for `led_wake` and cuts the
LED task's sleep short with `Task.cancel()`, which a task may catch and carry on (MicroPython's
asyncio docs say so): that allocates on a state change only, never per blink.
"""

import asyncio

from blink import led_on, led_wait
from clock import uptime_ms

_IDLE_MS = 3600000      # the sleep of a steady LED: only a state change ends it


class _Wake:
    """What the watcher and the LED task share: the LED task, whether it is in its sleep (the one
    await a wake may cancel), and whether a cancel on its way is a wake-up, not a real one."""

    def __init__(self, task):
        self.task = task
        self.sleeping = False
        self.cut = False
        self.failed = None          # what ended the watcher, for the LED task to raise


def _cut(wake):
    # The sleep is the LED task's one await, so it is there whenever another task runs. Already cut,
    # it has not run since, and reads the newest state (and `failed`) when it does.
    if wake.sleeping and not wake.cut:
        wake.cut = True
        wake.task.cancel()


async def _watch(event, wake):
    try:
        while True:
            await event.wait()
            event.clear()     # before the LED task reads: a change after that read sets it again
            _cut(wake)
    except Exception as e:  # e.g. a MemoryError in a tight heap: the LED task raises it, so that its
        wake.failed = e     # supervisor logs it and starts both again, rather than the LED going deaf
        _cut(wake)


async def run_led(shared, pin, slow_ms, fast_ms):
    lit = None
    wake = _Wake(asyncio.current_task())
    watcher = asyncio.create_task(_watch(shared.led_wake, wake))
    try:
        while True:
            # The three fields must be consistent, as a snapshot under the lock would be. They are,
            # without the lock (and its three allocated generators): under cooperative scheduling no
            # other task runs between two awaits, these reads have no await between them, and every
            # writer changes the state in one step with no await inside (Shared, under its lock).
            s = shared.state
            policy, mode, held = s["led"], s["mode"], s["buttons"]["a"]
            now = uptime_ms()
            level = led_on(policy, mode, held, now, slow_ms, fast_ms)
            wait_ms = led_wait(policy, mode, held, now, slow_ms, fast_ms)
            if level != lit:
                pin.value(level)
                lit = level
                shared.set_reading("lit", level)   # one store, no await: see Shared.set_reading
            wake.sleeping = True
            try:
                await asyncio.sleep_ms(_IDLE_MS if wait_ms is None else wait_ms)
            except asyncio.CancelledError:
                if not wake.cut:        # a real cancel (the node stopping): let it end the task
                    raise
            finally:
                wake.sleeping = False
                wake.cut = False
            if wake.failed is not None:
                raise wake.failed
    finally:
        watcher.cancel()


async def run_heartbeat(pin, period_ms=1000, on_ms=100):
    while True:
        pin.value(1)
        await asyncio.sleep_ms(on_ms)
        pin.value(0)
        await asyncio.sleep_ms(period_ms - on_ms)
