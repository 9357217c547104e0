"""Part of MISTAKE long-lock (see logger.py beside this file), teaching mode only: the LED task as a
reader by the book, copying the state under the lock each time it looks, so that it is one of the
tasks a long hold of the lock stalls.

This part is not a mistake: the firmware's `run_led` reads the three fields without the lock only
because every writer changes the state in one step with no await (led.py says why), to allocate
nothing per blink. Here it waits for the next blink edge or a state change with `wait_for_ms`, which
allocates a little on every blink; the virtual board's heap has room for it.
"""

import asyncio

import _mistake

_real = _mistake.real("led", __file__)
_mistake.take(globals(), _real)


async def run_led(shared, pin, slow_ms, fast_ms):
    lit = None
    while True:
        async with shared.lock:                 # the copy, under the lock
            s = shared.state
            policy, mode, held = s["led"], s["mode"], s["buttons"]["a"]
        now = uptime_ms()
        level = led_on(policy, mode, held, now, slow_ms, fast_ms)
        wait_ms = led_wait(policy, mode, held, now, slow_ms, fast_ms)
        if level != lit:
            pin.value(level)
            lit = level
            shared.set_reading("lit", level)
        shared.led_wake.clear()
        try:
            await asyncio.wait_for_ms(shared.led_wake.wait(), _IDLE_MS if wait_ms is None else wait_ms)
        except asyncio.TimeoutError:
            pass
