"""MISTAKE heavy-lock: heavy work inside the lock, done by a blocking call. Teaching mode only
(`python -m sim node --mistake heavy-lock`), never on a board.

The firmware's `Shared.apply_command` changes the state, queues the events and the ack under the
lock, in one short step. Here it also saves the new settings before letting go, with a blocking call
(SAVE_MS of `time.sleep_ms`, standing for a flash write or a long computation, which on a Pico block
everything the same way). While it runs no task runs at all, lock or no lock: the LED and the
heartbeat LED stall, and the command's ack waits.
"""

import time

import _mistake

_real = _mistake.real("shared", __file__)
_mistake.take(globals(), _real)

SAVE_MS = 400


async def _apply_command(self, cmd_id, fields):
    async with self.lock:
        self._queue_events(rules.apply_command(self.state, cmd_id, fields))
        time.sleep_ms(SAVE_MS)          # "save the settings": blocking, and inside the lock
        ver = self.state["ver"]
        self.outbox.put("ack", {"id": cmd_id, "ok": True, "ver": ver, "ts": uptime_ms()})
        if fields.get("get"):
            self.outbox.put_snapshot(self._snapshot_locked())
    return ver


Shared.apply_command = _apply_command
_mistake.announce("heavy-lock", "Shared.apply_command blocks %d ms inside the lock (a settings save)"
                                % SAVE_MS)
