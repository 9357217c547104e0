"""MISTAKE busy-poll: a button poller waits for the release by polling the pin without an await.
Teaching mode only (`python -m sim node --mistake busy-poll`), never on a board.

The firmware's `run_button` samples its pin and then `await asyncio.sleep_ms(poll_ms)`, letting every
other task run between samples. Here, once a press is reported, it waits for the release in a loop
that sleeps with `time.sleep_ms`: a blocking sleep, no await. While the button is held nothing else
runs: the LED does not light, the heartbeat LED stops, nothing is published, the MQTT keepalive and
the watchdog go unfed. Held longer than WDT_TIMEOUT_MS, the watchdog resets the board.
"""

import asyncio
import time

import _mistake

_real = _mistake.real("buttons", __file__)
_mistake.take(globals(), _real)


async def run_button(shared, name, pin, settle_ms, poll_ms, progress):
    beat = "button-" + name
    deb = Debouncer(settle_ms, pin.value() == 0)
    if deb.level:
        await shared.button_edge(name, True)
    while True:
        edge = deb.update(pin.value() == 0, uptime_ms())
        if edge is not None:
            await shared.button_edge(name, edge)
            if edge:
                while pin.value() == 0:         # wait for the release...
                    time.sleep_ms(poll_ms)      # ...polling, without an await: nothing else runs
        progress.beat(beat)
        await asyncio.sleep_ms(poll_ms)


_mistake.announce("busy-poll", "run_button waits for the release polling with time.sleep_ms, no await")
