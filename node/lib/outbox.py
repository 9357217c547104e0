"""The outbox: node messages waiting for the MQTT link, in the order they were made, until the broker
has acknowledged them.

Pure; `on_put` (the link's wake-up) is passed in. An entry is `[kind, body, pid]`: pid 0 while it
waits to be sent (or sent again), the MQTT packet id while it is in flight (sent, no PUBACK yet).
Three places, each bounded:
- `waiting`: events and acks not sent yet, oldest first, in a ring of `size` allocated once.
- the snapshot slot: the newest snapshot not sent yet, never more than one. A new snapshot replaces
  the one waiting (it has the newer state) and takes no room from events. It goes out after every
  event queued before it, never before one: it remembers how many events had been queued then.
- `flight`: what was handed to the link and not yet acknowledged, in send order (at most the link's
  window, plus nothing: the link sends only while fewer than its window are in flight).
Policies, each applied here and nowhere else:
- When `waiting` is full, its oldest entry is dropped and counted in `dropped`; the count travels in
  snapshots, so the monitor can tell "dropped on the device" from "lost on the way". Snapshots never
  push an event out, and an entry in flight is never dropped.
- When the link goes down, `rewind` makes every in-flight entry wait again: after reconnecting they are
  sent again first, in their order, with the `seq` they already had (the monitor sees a duplicate if
  the first copy did arrive).
"""

from ring import Ring


class Outbox:
    def __init__(self, size, on_put=None):
        self._waiting = Ring(size)
        self._flight = []           # sent, not acknowledged, in send order
        self._resend = 0            # the first entry of _flight to send again (== len when none)
        self._snapshot = None       # the newest snapshot not sent yet
        self._snap_after = 0        # how many events had been queued when it was made
        self._queued = 0            # events and acks ever queued
        self._left = 0              # ... of which have left `waiting` (sent or dropped)
        self._on_put = on_put
        self.capacity = size
        self.dropped = 0

    def __len__(self):
        return len(self._waiting) + len(self._flight) + (self._snapshot is not None)

    def in_flight(self):
        n = 0
        for entry in self._flight:
            if entry[2] > 0:
                n += 1
        return n

    def put(self, kind, body):
        entry = [kind, body, 0]
        if self._waiting.full():
            self._waiting.pop()
            self._left += 1
            self.dropped += 1
        self._waiting.push(entry)
        self._queued += 1
        if self._on_put:
            self._on_put()
        return entry

    def put_snapshot(self, body):
        self._snapshot = ["state", body, 0]
        self._snap_after = self._queued
        if self._on_put:
            self._on_put()

    def next_to_send(self):
        """The entry to hand to the link next, or None: first what must go again after a rewind, then
        the snapshot once every event queued before it has gone, then the oldest waiting entry."""
        if self._resend < len(self._flight):
            return self._flight[self._resend]
        if self._snapshot is not None and self._left >= self._snap_after:
            return self._snapshot
        return self._waiting.peek()

    def sent(self, entry, pid):
        """`entry` (from next_to_send) went out with packet id `pid`."""
        entry[2] = pid
        if self._resend < len(self._flight):
            self._resend += 1       # a resend: it is in flight already, in its place
            return
        if entry is self._snapshot:
            self._snapshot = None
        else:
            self._waiting.pop()
            self._left += 1
        self._flight.append(entry)
        self._resend = len(self._flight)

    def acked(self, pid):
        """A PUBACK: True when it matched an entry in flight."""
        flight = self._flight
        for i in range(len(flight)):
            if flight[i][2] == pid:
                flight.pop(i)
                if i < self._resend:
                    self._resend -= 1
                return True
        return False

    def rewind(self):
        """The link went down: whatever was in flight waits to be sent again."""
        for entry in self._flight:
            entry[2] = 0
        self._resend = 0
