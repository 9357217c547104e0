"""The watchdog task: feeds `machine.WDT` only while the tasks that must never stop make progress.

Each watched task calls `progress.beat(name)` in its loop (see progress.py); once a second the
watchdog feeds the WDT if every watched task has beaten within its allowance (one look, or more for the
network, whose waits are longer). The network counts: a link that is stuck is not progress, a link
that retries a broker that is down is. A task that hangs, or a scheduler blocked by some
call, stops the feeding, and the board resets (on the RP2350 the WDT waits at most about 16.7 s).
"""

import asyncio

from log import log


async def run_watchdog(progress, wdt, check_ms=1000):
    while True:
        await asyncio.sleep_ms(check_ms)
        if progress.all_beat():
            wdt.feed()
        else:
            log("watchdog", "not fed: no progress from %s" % ", ".join(progress.missing()))
