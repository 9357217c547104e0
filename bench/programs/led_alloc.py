# Heap bytes the LED task allocates, in the MicroPython interpreter: the node's run_led (node/lib/led.py)
# next to the loop it replaced (kept below, word for word, as the "before"), each alone in the scheduler
# for SECONDS with the collector off, read with gc.mem_alloc() (which a Pico has too). Per policy:
# steady (led off), blinking slow and fast (led auto). An empty scheduler (one task asleep) is the floor.
# Usage: micropython led_alloc.py SECONDS   (MICROPYPATH: node/lib)
# Prints one line: "led: {json}".
import asyncio
import gc
import json
import sys

from blink import led_level
from clock import uptime_ms
from inbox import Inbox
from led import run_led
from outbox import Outbox
from shared import Shared

SECONDS = float(sys.argv[1])
SLOW_MS, FAST_MS = 1000, 200


async def run_led_before(shared, pin, slow_ms, fast_ms):
    # node/lib/led.py's loop before the memory work (commit c6806b2), Shared.set_reading's old body inlined.
    lit = None
    while True:
        shared.led_wake.clear()     # before reading: a change after this read wakes us again
        async with shared.lock:
            s = shared.state
            policy, mode, held = s["led"], s["mode"], s["buttons"]["a"]
        level, wait_ms = led_level(policy, mode, held, uptime_ms(), slow_ms, fast_ms)
        if level != lit:
            pin.value(level)
            lit = level
            async with shared.lock:     # the old `await shared.set_reading("lit", level)`, inlined
                shared.readings["lit"] = level
        try:
            await asyncio.wait_for_ms(shared.led_wake.wait(), wait_ms if wait_ms is not None else 60000)
        except asyncio.TimeoutError:
            pass


class Pin:
    def __init__(self):
        self.changes = 0
        self.level = None

    def value(self, v):
        if v != self.level:
            self.level = v
            self.changes += 1


async def asleep():
    await asyncio.sleep_ms(3600000)


async def measure(loop_fn, led, mode):
    shared = Shared(Outbox(32), Inbox(8))
    shared.state["led"], shared.state["mode"] = led, mode
    pin = Pin()
    task = asyncio.create_task(loop_fn(shared, pin, SLOW_MS, FAST_MS) if loop_fn else asleep())
    await asyncio.sleep_ms(300)             # past the task's first allocations (its start)
    gc.collect()
    gc.disable()
    changes, t0, a0 = pin.changes, uptime_ms(), gc.mem_alloc()
    await asyncio.sleep_ms(int(SECONDS * 1000))
    a1, t1, changes = gc.mem_alloc(), uptime_ms(), pin.changes - changes
    gc.enable()
    task.cancel()
    await asyncio.sleep_ms(0)
    secs = (t1 - t0) / 1000
    return {"bytes_per_s": (a1 - a0) / secs, "changes_per_s": changes / secs,
            "bytes_per_change": (a1 - a0) / changes if changes else None}


async def main():
    out = {"seconds": SECONDS, "floor": await measure(None, "off", "slow")}
    for name, fn in (("before", run_led_before), ("after", run_led)):
        out[name] = {}
        for label, led, mode in (("steady", "off", "slow"), ("slow", "auto", "slow"), ("fast", "auto", "fast")):
            out[name][label] = await measure(fn, led, mode)
    out["impl"] = "%s %s" % (sys.implementation.name, ".".join(str(v) for v in sys.implementation.version[:3]))
    print("led: " + json.dumps(out))


asyncio.run(main())
