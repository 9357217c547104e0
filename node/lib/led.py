"""The LED task, sole owner of the LED pin, and the heartbeat task, owner of the on-board LED.

The LED task sleeps until the blink grid says the level changes or the state wakes it (`led_wake`),
so a press of button A lights the LED at once without polling.
"""

import asyncio

from blink import led_level
from clock import uptime_ms


async def run_led(shared, pin, slow_ms, fast_ms):
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
            await shared.set_reading("lit", level)
        try:
            await asyncio.wait_for_ms(shared.led_wake.wait(), wait_ms if wait_ms is not None else 60000)
        except asyncio.TimeoutError:
            pass


async def run_heartbeat(pin, period_ms=1000, on_ms=100):
    while True:
        pin.value(1)
        await asyncio.sleep_ms(on_ms)
        pin.value(0)
        await asyncio.sleep_ms(period_ms - on_ms)
