"""The shared state: one dict, one asyncio.Lock, and the events that tell tasks it changed.

Every change runs under the lock, bumps `ver` (through `rules`) and queues its events in the same step,
so the outbox order is `ver` order. Readers copy a snapshot under the lock and work outside it.
Readings (`lit`, `temp_c`) live here too, under the same lock, but are not versioned state.
"""

import asyncio

import rules
from clock import uptime_ms


class Shared:
    def __init__(self, outbox, inbox):
        self.lock = asyncio.Lock()
        self.state = rules.initial()
        self.readings = {"lit": 0, "temp_c": None}
        self.outbox = outbox
        self.inbox = inbox
        self.changed = asyncio.Event()     # wakes the publisher
        self.led_wake = asyncio.Event()    # wakes the LED task

    def _queue_events(self, events):
        if not events:
            return
        ts = uptime_ms()
        for ev in events:
            ev["ts"] = ts
            self.outbox.put("event", ev)
        self.changed.set()
        self.led_wake.set()

    async def button_edge(self, button, pressed):
        async with self.lock:
            self._queue_events(rules.button_edge(self.state, button, pressed))

    async def apply_command(self, cmd_id, fields):
        async with self.lock:
            self._queue_events(rules.apply_command(self.state, cmd_id, fields))
            ver = self.state["ver"]
            self.outbox.put("ack", {"id": cmd_id, "ok": True, "ver": ver, "ts": uptime_ms()})
            if fields.get("get"):
                self.outbox.put_snapshot(self._snapshot_locked())
        return ver

    async def reject_command(self, cmd_id, reason):
        async with self.lock:
            self.outbox.put("ack", {"id": cmd_id, "ok": False, "error": reason, "ts": uptime_ms()})

    def set_reading(self, name, value):
        """Store a reading. Each reading has one writer (the LED task `lit`, the sensor `temp_c`) and
        this is one store with no await in it, so under cooperative scheduling no task can see it half
        done: no lock needed (and none of the lock's allocations, on every blink). Readers still copy
        it under the lock, with the state it must be consistent with."""
        self.readings[name] = value

    def _snapshot_locked(self):
        st = self.state
        b = st["buttons"]
        p = st["presses"]
        # One literal with every key, the link's envelope (seq, boot, sess) included: a dict that grew
        # key by key would be copied into a bigger table each time it outgrew the last.
        return {
            "seq": 0, "boot": "", "sess": 0, "ts": uptime_ms(), "ver": st["ver"],
            "led": st["led"], "lit": self.readings["lit"], "mode": st["mode"],
            "buttons": {"a": b["a"], "b": b["b"]}, "presses": {"a": p["a"], "b": p["b"]},
            "temp_c": self.readings["temp_c"], "dropped": self.outbox.dropped,
            "cmd_dropped": self.inbox.dropped,
        }

    async def snapshot(self):
        """A copy of everything, for readers that work outside the lock."""
        async with self.lock:
            return self._snapshot_locked()

    async def queue_snapshot(self):
        async with self.lock:
            self.outbox.put_snapshot(self._snapshot_locked())
