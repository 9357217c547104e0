"""The outbox: node messages waiting for the MQTT link, in the order they were made, until the broker
has acknowledged them.

Pure; `on_put` (the link's wake-up) is passed in. An entry is `[kind, body, pid]`: pid 0 while it
waits, the MQTT packet id while it is in flight (sent, no PUBACK yet), DONE once acknowledged or
blanked. Entries leave from the front only when DONE, so nothing is forgotten before the broker has it.
Policies, each applied here and nowhere else:
- At most one snapshot waits: queuing a new one blanks an older one not yet sent (a tombstone, skipped
  on the way out), so only the newest state goes out, after every event queued before it.
- When full, the oldest entry is dropped, even if in flight, and counted in `dropped` unless it was
  already acknowledged or blank; the count travels in snapshots, so the monitor can tell "dropped on
  the device" from "lost on the way".
- When the link goes down, `rewind` makes every in-flight entry wait again: after reconnecting they are
  sent again, in their order, with the `seq` they already had (the monitor sees a duplicate if the
  first copy did arrive).
"""

from ring import Ring

DONE = -1


class Outbox:
    def __init__(self, size, on_put=None):
        self._ring = Ring(size)
        self._snapshot = None       # the snapshot entry not sent yet, if any
        self._on_put = on_put
        self._sent = 0              # entries from the front already handed to the link
        self.dropped = 0

    def __len__(self):
        return len(self._ring)

    def in_flight(self):
        n = 0
        for i in range(self._sent):
            if self._ring[i][2] > 0:
                n += 1
        return n

    def put(self, kind, body):
        entry = [kind, body, 0]
        if self._ring.full():
            old = self._ring.pop()
            if old[2] != DONE:
                self.dropped += 1
            if old is self._snapshot:
                self._snapshot = None
            if self._sent:
                self._sent -= 1
        self._ring.push(entry)
        if self._on_put:
            self._on_put()
        return entry

    def put_snapshot(self, body):
        if self._snapshot is not None:
            self._snapshot[2] = DONE
        self._snapshot = self.put("state", body)

    def next_to_send(self):
        """The first entry not yet handed out, or None; blanks are passed over."""
        while self._sent < len(self._ring):
            entry = self._ring[self._sent]
            if entry[2] != DONE:
                return entry
            self._sent += 1
        return None

    def sent(self, entry, pid):
        """`entry` (from next_to_send) went out with packet id `pid`."""
        entry[2] = pid
        self._sent += 1
        if entry is self._snapshot:
            self._snapshot = None
        self._trim()

    def acked(self, pid):
        """A PUBACK: True when it matched an entry in flight."""
        for i in range(self._sent):
            entry = self._ring[i]
            if entry[2] == pid:
                entry[2] = DONE
                self._trim()
                return True
        return False

    def rewind(self):
        """The link went down: whatever was in flight waits to be sent again."""
        for i in range(self._sent):
            entry = self._ring[i]
            if entry[2] > 0:
                entry[2] = 0
        self._sent = 0
        self._trim()

    def _trim(self):
        while len(self._ring) and self._ring[0][2] == DONE:
            self._ring.pop()
            if self._sent:
                self._sent -= 1
