"""The logger task: prints a snapshot every second (copied under the lock, printed outside it) and
does the memory housekeeping, so garbage is collected in small steps rather than in one long pause.

Its line ends with the free heap just after that collection (`free=`: the room left beside what the
node holds) and the heap taken since the previous collection (`alloc=`: the garbage the collector
finds each second, plus any growth). When the heap is so small that the collector also ran by itself
in between, `alloc=` counts only what came after that run.
"""

import asyncio
import gc

from log import log


async def run_logger(shared, link, period_s, progress):
    gc.collect()
    held = gc.mem_alloc()
    while True:
        s = await shared.snapshot()
        taken = gc.mem_alloc() - held
        gc.collect()
        held = gc.mem_alloc()
        log("state", "ver=%d led=%s lit=%d mode=%s a=%d b=%d presses=%d/%d temp=%s mqtt=%s sess=%d "
            "seq=%d outbox=%d dropped=%d free=%d alloc=%d" % (
                s["ver"], s["led"], s["lit"], s["mode"], s["buttons"]["a"], s["buttons"]["b"],
                s["presses"]["a"], s["presses"]["b"], s["temp_c"], "up" if link.up else "down",
                link.sess, link.seq, len(link.outbox), s["dropped"], gc.mem_free(), taken))
        progress.beat("logger")
        await asyncio.sleep(period_s)
