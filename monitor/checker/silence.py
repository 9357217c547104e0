"""A frozen node: the heartbeat a node promises, and the `silent` finding when it breaks the promise.

A node's `status` online message says its heartbeat period (`hb`, seconds: docs/protocol.md): it publishes a
snapshot at least that often. From then on, in that boot and session, a silence (no live message at all) of
more than `late(hb)` on the checker's clock is `silent` (an error): a task that never awaits, or a lock held
across slow work, stops everything, the heartbeat too. One finding per silence, when it ends (the next message
of the same boot and session), or at the end of the stream if it never ended.

Not silent: a node that said offline (its goodbye or its Last Will ends the promise, and a silence it ends),
a silence ended by a new boot or session (a `reboot` or `reconnect` note says what happened), a silence the
monitor itself was away for (`Absences.during()`: its recorder lost the broker), a status without `hb`.

`Checker._accept()` does the per-message part in short: one comparison of the time since the last message
heard (`Device.heard_t`) with `Device.late` (INF without a promise), then `heard()` only when it is over.
"""

from __future__ import annotations

from collections.abc import Callable

from monitor import findings as F
from monitor.checker.absences import Absences
from monitor.checker.clock import clock_span
from monitor.checker.devices import INF, Device, ref, wall
from monitor.message import Message

WHY = ("a node publishes a snapshot at least every hb s: a task that never awaits, or a lock held across slow "
       "work, stops everything")


def late(hb: int) -> float:
    """The longest silence allowed with a heartbeat every `hb` seconds: two periods, and at least 2 s to spare
    (a snapshot may wait behind a change's own, and the network adds its delay)."""
    return float(max(2 * hb, hb + 2))


class Silence:
    __slots__ = ("_absences", "_emit")

    def __init__(self, absences: Absences, emit: Callable[[F.Finding], None]) -> None:
        self._absences = absences
        self._emit = emit

    def status(self, dev: Device, m: Message) -> None:
        """A live status of the current boot's newest session: online with `hb` starts (or renews) the
        promise; offline, or online without a valid `hb`, ends it."""
        body = m.body
        hb = body.get("hb")
        if body.get("online") is True and type(hb) is int and hb >= 1:
            dev.late = late(hb)
            dev.promise = (m.boot, m.sess)  # type: ignore[assignment]
        else:
            dev.late = INF
            dev.promise = None

    def will(self, dev: Device, m: Message) -> None:
        """A Last Will: the node is gone; the promise of its boot and session (or an older one) ends."""
        promise = dev.promise
        if promise is not None and promise[0] == m.boot and m.sess >= promise[1]:  # type: ignore[operator]
            dev.late = INF
            dev.promise = None

    def heard(self, dev: Device, m: Message) -> None:
        """`m` arrived more than `dev.late` after the message before it (`dev.heard`): a silence, unless it is
        excused (see the module docstring). The caller then makes `m` the last heard."""
        before = dev.heard
        promise = dev.promise
        if before is None or promise is None or m.boot != promise[0] or m.sess != promise[1]:
            return
        if m.kind == "status" and m.body.get("online") is not True:
            return  # its goodbye: offline, not frozen
        self._silent(dev, before, m.t, m)

    def finish(self, dev: Device, now: float | None) -> None:
        """The stream ended at `now` (the checker's clock): a silence still going on is judged."""
        before = dev.heard
        if now is None or before is None or (before.boot, before.sess) != dev.promise \
                or not now - dev.heard_t > dev.late:
            return
        self._silent(dev, before, now, None)

    def _silent(self, dev: Device, before: Message, end: float, after: Message | None) -> None:
        start = dev.heard_t
        if self._absences.during(start, end) is not None:
            return  # the monitor was away: what the node said meanwhile was never seen
        gap = end - start
        allowed = dev.late
        w_from = wall(before)
        w_to = wall(after) if after is not None else w_from + gap
        span = clock_span(w_from, w_to)
        ended = "" if after is not None else (" and had not ended when the recording did (the node never said "
                                              "offline)")
        self._emit(F.Finding(
            F.SILENT, f"nothing heard for {gap:.1f} s ({span}; at most {allowed:g} s allowed){ended}: {WHY}",
            dev.name, before.boot, messages=tuple(r for r in (ref(before), ref(after)) if r is not None),
            info={"silent_s": round(gap, 3), "from": w_from, "to": w_to, "late_s": allowed,
                  "ended": after is not None}))
