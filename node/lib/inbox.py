"""The command inbox: raw command payloads from the MQTT callback to the command owner.

Bounded and allocated once. The callback must not block or allocate much, so when the inbox is full
the new command is dropped and counted (`dropped`, reported in snapshots as `cmd_dropped`); its sender
sees no ack and can tell from the count why.
"""

import asyncio

from ring import Ring


class Inbox:
    def __init__(self, size):
        self._ring = Ring(size)
        self.ready = asyncio.Event()
        self.dropped = 0

    def put(self, raw):
        if self._ring.full():
            self.dropped += 1
            return
        self._ring.push(raw)
        self.ready.set()

    def take(self):
        return self._ring.pop()
