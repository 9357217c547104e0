"""MISTAKE live-snapshot: the publisher's snapshot is the live state, not a copy taken under the lock.
Teaching mode only (`python -m sim node --mistake live-snapshot`), never on a board.

The firmware's `Shared.queue_snapshot` copies every field under `self.lock` (`_snapshot_locked`:
nested dicts copied too) and queues that copy. Here it takes `dict(self.state)` without the lock: a
shallow copy, whose `buttons` and `presses` are the live dicts, and then awaits a fresh temperature
reading before queueing it. Whatever changes during that await shows up in `buttons` and `presses`
but not in `ver`, `led` or `mode`: a half-updated snapshot (tap button A and the snapshot of the press
already shows the release).
"""

import asyncio

import _mistake

_real = _mistake.real("shared", __file__)
_mistake.take(globals(), _real)

READ_MS = 150   # a fresh reading takes time (a DS18B20 conversion takes up to 750 ms)


async def _queue_snapshot(self):
    snap = dict(self.state)                   # no lock, and shallow: buttons, presses are the live dicts
    await asyncio.sleep_ms(READ_MS)           # "a fresh temperature": meanwhile the state moves on
    snap.update({"seq": 0, "boot": "", "sess": 0, "ts": uptime_ms(), "lit": self.readings["lit"],
                 "temp_c": self.readings["temp_c"], "dropped": self.outbox.dropped,
                 "cmd_dropped": self.inbox.dropped})
    self.outbox.put_snapshot(snap)


Shared.queue_snapshot = _queue_snapshot
_mistake.announce("live-snapshot", "Shared.queue_snapshot sends a shallow copy of the live state, "
                                   "taken without the lock, after an await")
