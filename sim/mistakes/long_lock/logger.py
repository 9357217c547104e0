"""MISTAKE long-lock: the logger holds the state lock across slow work (its console write). Teaching
mode only (`python -m sim node --mistake long-lock`), never on a board.

The firmware's logger copies a snapshot under the lock (`Shared.snapshot`) and prints it outside. Here
it takes the lock, writes its line, and waits for the slow console (a UART at 9600 baud takes ~100 ms
a line; WRITE_MS here) before letting go. Every task that needs the state waits meanwhile: button
edges, commands and their acks, snapshots, and the LED (led.py beside this file makes it a reader by
the book, which copies the state under the lock). The LED's stall shows in `python -m sim stalls`.
"""

import asyncio
import gc

import _mistake

_real = _mistake.real("logger", __file__)
_mistake.take(globals(), _real)

WRITE_MS = 300


async def run_logger(shared, link, period_s, progress):
    while True:
        async with shared.lock:                 # taken for the copy...
            s = shared._snapshot_locked()
            log("state", "ver=%d led=%s lit=%d mode=%s presses=%d/%d mqtt=%s (written holding the lock)"
                % (s["ver"], s["led"], s["lit"], s["mode"], s["presses"]["a"], s["presses"]["b"],
                   "up" if link.up else "down"))
            await asyncio.sleep_ms(WRITE_MS)    # ...and held across the slow write: everyone waits
        gc.collect()
        progress.beat("logger")
        await asyncio.sleep(period_s)


_mistake.announce("long-lock", "the logger holds the state lock across a %d ms console write "
                               "(and the LED task reads the state under the lock)" % WRITE_MS)
