"""The logger task: prints a snapshot every second (copied under the lock, printed outside it) and
does the memory housekeeping, so garbage is collected in small steps rather than in one long pause."""

import asyncio
import gc

from log import log


async def run_logger(shared, link, period_s, progress):
    while True:
        s = await shared.snapshot()
        gc.collect()
        log("state", "ver=%d led=%s lit=%d mode=%s a=%d b=%d presses=%d/%d temp=%s mqtt=%s sess=%d "
            "seq=%d outbox=%d dropped=%d free=%d" % (
                s["ver"], s["led"], s["lit"], s["mode"], s["buttons"]["a"], s["buttons"]["b"],
                s["presses"]["a"], s["presses"]["b"], s["temp_c"], "up" if link.up else "down",
                link.sess, link.seq, len(link.outbox), s["dropped"], gc.mem_free()))
        progress.beat("logger")
        await asyncio.sleep(period_s)
