"""Debouncing: a raw pin reading becomes a stable level once it has held for `settle_ms`.

Pure: the caller passes the time in (milliseconds that only grow), so this runs and is tested anywhere.
"""


class Debouncer:
    def __init__(self, settle_ms, level=False):
        self.settle_ms = settle_ms
        self.level = level          # the stable, reported level
        self._raw = level
        self._since = None          # when the raw reading last changed

    def update(self, raw, now_ms):
        """Feed one reading; returns the new stable level on an edge, else None."""
        if raw != self._raw:
            self._raw = raw
            self._since = now_ms
            return None
        if raw == self.level or self._since is None:
            return None
        if now_ms - self._since >= self.settle_ms:
            self.level = raw
            return raw
        return None
