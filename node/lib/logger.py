"""The logger task: prints a snapshot every second (copied under the lock, printed outside it) and
does the memory housekeeping, so garbage is collected in small steps rather than in one long pause.

Its `lit=` says `blink-slow` or `blink-fast` while the LED blinks (policy auto, button A up), else the
LED's level, 1 or 0. Its line ends with the free heap just after that collection (`free=`: the room left beside what the
node holds) and the heap taken since the previous collection (`alloc=`: the garbage the collector
finds each second, plus any growth). When the heap is so small that the collector also ran by itself
in between, `alloc=` counts only what came after that run.
"""

import asyncio
import gc

from log import log


def _lit(s):
    # Once a second is a whole number of blinks in either mode: one sample of the level would show the
    # same value on every line, and a blinking LED would look stuck. So say what it does.
    if s["led"] == "auto" and not s["buttons"]["a"]:
        return "blink-" + s["mode"]     # blink-slow (1 s period) or blink-fast (0.2 s)
    return "%d" % s["lit"]


async def run_logger(shared, link, period_s, progress):
    gc.collect()
    held = gc.mem_alloc()
    while True:
        s = await shared.snapshot()
        taken = gc.mem_alloc() - held
        gc.collect()
        held = gc.mem_alloc()
        log("state", "ver=%d led=%s lit=%s mode=%s a=%d b=%d presses=%d/%d temp=%s mqtt=%s sess=%d "
            "seq=%d outbox=%d dropped=%d free=%d alloc=%d" % (
                s["ver"], s["led"], _lit(s), s["mode"], s["buttons"]["a"], s["buttons"]["b"],
                s["presses"]["a"], s["presses"]["b"], s["temp_c"], "up" if link.up else "down",
                link.sess, link.seq, len(link.outbox), s["dropped"], gc.mem_free(), taken))
        progress.beat("logger")
        await asyncio.sleep(period_s)
