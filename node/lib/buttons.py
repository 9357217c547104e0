"""The button poller task: one per button, sampling its pin and reporting debounced edges."""

import asyncio

from clock import uptime_ms
from debounce import Debouncer


async def run_button(shared, name, pin, settle_ms, poll_ms, progress):
    # Active low: the pull-up reads 1, pressed (shorted to GND) reads 0.
    beat = "button-" + name     # made once: this loop runs every few milliseconds
    deb = Debouncer(settle_ms, pin.value() == 0)
    if deb.level:
        await shared.button_edge(name, True)
    while True:
        edge = deb.update(pin.value() == 0, uptime_ms())
        if edge is not None:
            await shared.button_edge(name, edge)
        progress.beat(beat)
        await asyncio.sleep_ms(poll_ms)
