"""Boots, Last Wills and retained replays: which boot of a device a message belongs to, and what is history.

- A new `boot` is a `reboot` (information): a new `Track` for it; past `Limits.boots` the oldest is retired
  (what it still holds is judged, then it is only summarised).
- The Last Will (`status` with `online: false` and no `seq`) marks the device offline, unless it is stale:
  a Will of an older session than the newest seen, or of an earlier boot, arrives when the broker notices a
  dead connection, often after the node is back. A stale Will is counted and ignored.
- Retained messages (the broker's replays on subscribe) are history: counted, shown, kept out of the live
  ordering, and used as the model's starting point when nothing live came before them in that boot.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from monitor import findings as F
from monitor.checker.delivery import Delivery
from monitor.checker.devices import Device, Limits, Track, finding, ref
from monitor.checker.shown import Shown
from monitor.message import Message


class Boots:
    __slots__ = ("limits", "_init", "_delivery", "_shown", "_retire", "_emit")

    def __init__(self, init: Any, limits: Limits, delivery: Delivery, shown: Shown,
                 retire: Callable[[Device, Track], None], emit: Callable[[F.Finding], None]) -> None:
        self._init = init
        """The model's initial state (each boot starts from it)."""
        self.limits = limits
        self._delivery = delivery
        self._shown = shown
        self._retire = retire
        """Judge what a boot leaving the table still holds (the ordering's business)."""
        self._emit = emit

    def track(self, dev: Device, m: Message) -> Track | None:
        """The boot's track; a new one (and a `reboot`) for a boot never seen; None for a retired boot."""
        track = dev.tracks.get(m.boot)  # type: ignore[arg-type]
        if track is not None:
            return track
        if dev.old_boots is not None and any(b.boot == m.boot for b in dev.old_boots):
            return None
        track = Track(m.boot, m.line, self._init)  # type: ignore[arg-type]
        previous = dev.current
        dev.tracks[m.boot] = track  # type: ignore[index]
        dev.current = track
        if len(dev.tracks) > self.limits.boots:
            old = dev.tracks.pop(next(iter(dev.tracks)))
            self._close(dev, old)
        if previous is not None:
            gone = " after its Last Will" if previous.will_sess is not None else ""
            self._emit(finding(F.REBOOT, f"new boot {m.boot} (after {previous.boot}{gone})", dev, track, ref(m),
                               error=False))
        return track

    def _close(self, dev: Device, track: Track) -> None:
        """A boot leaves the bounded table: whatever it still holds is judged now."""
        if track.pending:
            self._retire(dev, track)
        if dev.old_boots is None:
            dev.old_boots = deque()
        dev.old_boots.append(track.summary())
        while len(dev.old_boots) > self.limits.boot_summaries:
            dev.old_boots.popleft()

    def will(self, dev: Device, m: Message) -> None:
        """A Last Will: the device is offline, unless the Will is stale."""
        track = dev.tracks.get(m.boot)  # type: ignore[arg-type]
        if track is None or track is not dev.current:
            dev.stale_wills += 1  # an old boot's goodbye, arriving after the node came back
            return
        if track.sess_max is not None and m.sess < track.sess_max:  # type: ignore[operator]
            dev.stale_wills += 1  # an old session's goodbye, after the node reconnected
            return
        track.will_sess = m.sess
        dev.online = False

    def retained(self, dev: Device, m: Message) -> None:
        """A retained replay: history, and the model's starting point when nothing live came before it."""
        track = self.track(dev, m)
        if track is None:
            return  # history of a boot long gone
        track.retained += 1
        if track.sess_first is None:
            track.sess_first = m.sess
        if track.next is None and track.live == 0:
            self._shown.show(dev, track, m)
        if m.kind == "state" and track.next is None and track.start is None:
            self._delivery.baseline(dev, track, m)
