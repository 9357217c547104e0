"""The publisher task: decides when a snapshot goes out.

It waits on `changed` (no polling), with the heartbeat as its timeout. After a change it lets `gap_ms`
pass before copying the snapshot, so a burst of changes shares one snapshot and the LED task has
already shown the change when `lit` is read.
"""

import asyncio


async def run_publisher(shared, heartbeat_ms, gap_ms):
    while True:
        try:
            await asyncio.wait_for_ms(shared.changed.wait(), heartbeat_ms)
            await asyncio.sleep_ms(gap_ms)
        except asyncio.TimeoutError:
            pass
        shared.changed.clear()
        await shared.queue_snapshot()
