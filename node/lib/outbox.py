"""The outbox: node messages waiting for the MQTT link, in the order they were made.

Pure; `on_put` (the link's wake-up) is passed in. Entries are `[kind, body]` lists. Two policies:
- At most one snapshot waits: queuing a new one blanks the older (it stays in place as a tombstone,
  skipped on the way out), so only the newest state goes out and it goes out after every event that
  was queued before it.
- When full, the oldest entry is dropped and counted in `dropped`; the count travels in snapshots so
  the monitor can tell "dropped on the device" from "lost on the way".
"""

from ring import Ring


class Outbox:
    def __init__(self, size, on_put=None):
        self._ring = Ring(size)
        self._snapshot = None       # the entry of the snapshot still waiting, if any
        self._on_put = on_put
        self.dropped = 0

    def __len__(self):
        return len(self._ring)

    def put(self, kind, body):
        entry = [kind, body]
        if self._ring.full():
            old = self._ring.pop()
            if old[0] is not None:
                self.dropped += 1
            if old is self._snapshot:
                self._snapshot = None
        self._ring.push(entry)
        if self._on_put:
            self._on_put()
        return entry

    def put_snapshot(self, body):
        if self._snapshot is not None:
            self._snapshot[0] = None
        self._snapshot = self.put("state", body)

    def peek(self):
        """The next entry to send, or None; tombstones are discarded on the way."""
        while len(self._ring):
            entry = self._ring.peek()
            if entry[0] is not None:
                return entry
            self._ring.pop()
        return None

    def pop(self):
        """Remove the entry `peek` returned, once it has been sent."""
        entry = self._ring.pop()
        if entry is self._snapshot:
            self._snapshot = None
        return entry
