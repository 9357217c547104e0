"""Ordering, per device and boot: the envelope rules of docs/protocol.md (per device and `boot`, live `seq`
runs 1, 2, 3, ... in publish order). Every rule is bounded in memory (see `Limits`):

- a message is delivered to the model when every lower `seq` has been delivered or called lost;
- a gap is held open for `reorder_timeout` seconds from the arrival of the first message beyond it; a
  message filling it in time is `reordered` (recovered, not an error); after that the gap is `lost` (or
  `unseen`, when the monitor itself was away meanwhile), and a message arriving later still is `reordered`
  with `late` (an error);
- the same `seq` again is a `duplicate`: an error, unless the copy carries an older `sess` than the
  boot's newest, i.e. the node resent it after reconnecting (QoS 1 allows that; `resend` in `info`);
- the first messages of a boot joined midway are held for `reorder_timeout` too, since a lower `seq`
  may still be on its way; a boot seen from `seq` 1 needs no wait;
- a new `sess` within a boot is a `reconnect` (information).

Which boot a message belongs to, the Last Will and retained replays are `monitor.checker.boots`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from monitor import findings as F
from monitor.checker.absences import Absences
from monitor.checker.acks import Acks
from monitor.checker.boots import Boots
from monitor.checker.clock import Clock, clock_span
from monitor.checker.delivery import BOOT, Delivery, Mark
from monitor.checker.devices import INF, NONE, RING, Device, Limits, Track, finding, ref
from monitor.checker.shown import Shown
from monitor.message import Message


class Ordering:
    __slots__ = ("boots", "limits", "reorder_timeout", "_delivery", "_acks", "_shown", "_absences", "_clock",
                 "_emit")

    def __init__(self, init: Any, limits: Limits, reorder_timeout: float, delivery: Delivery, acks: Acks,
                 shown: Shown, absences: Absences, clock: Clock, emit: Callable[[F.Finding], None]) -> None:
        self.boots = Boots(init, limits, delivery, shown, self._retire, emit)
        self.limits = limits
        self.reorder_timeout = reorder_timeout
        self._delivery = delivery
        self._acks = acks
        self._shown = shown
        self._absences = absences
        self._clock = clock
        self._emit = emit

    def live(self, dev: Device, m: Message) -> None:
        """A live message: its place in its boot's order. (`Checker._accept()` sees to the common case in short:
        the next in line of the current boot, in its session, nothing waiting; this would do the same with it.)"""
        track = dev.current
        seq: int = m.seq  # type: ignore[assignment]
        if track is None or track.boot != m.boot:
            track = self.boots.track(dev, m)
        if track is None:
            self._emit(F.Finding(F.REORDERED, f"seq {seq} of boot {m.boot} arrived after the device had moved on "
                                              f"to {len(dev.tracks)} newer boots (too old to tell a late message "
                                              "from a duplicate)", dev.name, m.boot, seqs=(seq,),
                                 messages=(ref(m),), info={"late": True}))  # type: ignore[arg-type]
            return
        track.live += 1
        if track.seq_first is None or seq < track.seq_first:
            track.seq_first = seq
        if track.seq_last is None or seq > track.seq_last:
            track.seq_last = seq
        sess: int = m.sess  # type: ignore[assignment]
        if track.sess_first is None:
            track.sess_first = sess
        if track.sess_max is None:
            track.sess_max = sess
        elif sess > track.sess_max:
            after = " after its Last Will" if track.will_sess is not None and track.will_sess >= track.sess_max else ""
            self._emit(finding(F.RECONNECT, f"new MQTT session {sess} (was {track.sess_max}){after}", dev, track,
                               ref(m), error=False))
            track.sess_max = sess
        nxt = track.next
        if (nxt is not None and seq < nxt) or seq in track.pending:
            self._again(dev, track, m, seq)
            return
        if m.kind == "ack":
            m = self._acks.match(dev, m)
        if seq == nxt and not track.pending:  # the common case: next in line
            track.top = seq
            track.next = seq + 1
            self._delivery.deliver(dev, track, m)
            self._shown.show(dev, track, m)
            return
        if seq < track.top:
            resent = " (resent after a reconnect)" if sess < track.sess_max else ""
            self._emit(finding(F.REORDERED, f"seq {seq} arrived after seq {track.top}{resent}", dev, track, ref(m),
                               error=False, seqs=(seq,), info={"recovered": True, "resend": bool(resent)}))
        else:
            track.top = seq
            self._shown.show(dev, track, m)
        if not track.pending:
            track.gap_t = m.t
        if track.pending is NONE:
            track.pending = {}
        track.pending[seq] = m
        if track.start is None:
            if seq == 1 or (track.baseline_seq is not None and seq == track.baseline_seq + 1):
                self._release(track)
            elif track.hold_until is None:
                track.hold_until = m.t + self.reorder_timeout
        now = self._clock.now or m.t
        self._drain(dev, track, now)
        if len(track.pending) > self.limits.pending:
            self._release(track)
            self._drain(dev, track, now)
            while len(track.pending) > self.limits.pending:
                self._lose_gap(dev, track, f"more than {self.limits.pending} messages waited behind it")
        self._clock.schedule(dev, self._due(track))

    def _again(self, dev: Device, track: Track, m: Message, seq: int) -> None:
        """A `seq` at or below what was delivered, or already waiting: late, or a duplicate."""
        for span in track.lost:
            if span[0] <= seq <= span[1]:
                _unlose(track, span, seq)
                self._emit(finding(F.REORDERED, f"seq {seq} arrived after it was called lost (reorder timeout "
                                                f"{self.reorder_timeout:g} s)", dev, track, ref(m), seqs=(seq,),
                                   info={"late": True}))
                return
        if track.start is not None and seq < track.start:
            self._emit(finding(F.REORDERED, f"seq {seq} arrived after this boot's live window began at seq "
                                            f"{track.start} (reorder timeout {self.reorder_timeout:g} s)", dev, track,
                               ref(m), seqs=(seq,), info={"late": True}))
            return
        resend = m.sess < (track.sess_max or 0)  # type: ignore[operator]
        first = ref(track.pending.get(seq))
        slot = track.ring[seq % RING]
        if first is None and slot is not None and slot[0] == seq:
            first = F.Ref(line=slot[1], t=slot[2], topic=slot[3], seq=seq, ver=slot[4], sess=slot[5])
        old = " (too old to tell a duplicate from a late message)" if seq < track.floor else ""
        why = f" (resent with its session {m.sess} after the node reconnected)" if resend else ""
        self._emit(finding(F.DUPLICATE, f"seq {seq} received again{why}{old}", dev, track, first, ref(m),
                           seqs=(seq,), error=not resend, info={"resend": resend}))

    def _release(self, track: Track) -> None:
        """End the hold-back at a boot's start: the live window begins at the lowest `seq` that came."""
        if track.start is not None or not track.pending:
            return
        start = min(track.pending)
        track.start = track.next = track.floor = start
        track.hold_until = None
        if start == 1:
            self._delivery.mark(track, BOOT)
            track.baseline_seq = None
        elif track.baseline_seq is not None and start > track.baseline_seq + 1:
            self._delivery.mark(track, Mark("gap", start - track.baseline_seq - 1))
        track.gap_t = min(m.t for m in track.pending.values())

    def _drain(self, dev: Device, track: Track, now: float, why: str | None = None) -> None:
        """Deliver what is next in line; call gaps lost whose time is up."""
        if track.start is None:
            if track.hold_until is None or now < track.hold_until or not track.pending:
                return
            self._release(track)
        pending = track.pending
        deliver = self._delivery.deliver
        while pending:
            m = pending.pop(track.next, None)  # type: ignore[arg-type]
            if m is not None:
                track.next += 1  # type: ignore[operator]
                deliver(dev, track, m)
                if pending and track.next not in pending:
                    track.gap_t = min(p.t for p in pending.values())
                continue
            if now < track.gap_t + self.reorder_timeout:
                return
            self._lose_gap(dev, track, why)
        track.pending = NONE  # (an emptied dict keeps the room it grew to)

    def _lose_gap(self, dev: Device, track: Track, why: str | None) -> None:
        """Call the gap at `next` lost (everything up to the lowest waiting `seq`)."""
        lo: int = track.next  # type: ignore[assignment]
        after = track.pending[min(track.pending)]
        hi: int = after.seq - 1  # type: ignore[operator]
        count = hi - lo + 1
        seqs = tuple(range(lo, min(hi, lo + F.SEQS_LISTED - 1) + 1))
        span = f"seq {lo}" if count == 1 else f"seq {lo}..{hi} ({count} messages)"
        waited = (self._clock.now or after.t) - track.gap_t
        dev.lost += count
        away = self._absences.during(track.last.t if track.last is not None else track.gap_t, after.t)
        if away is not None:  # the monitor itself was not listening: no word on the device or its broker
            when = f"since {clock_span(away[0], away[0])[3:]}" if away[1] == INF else clock_span(*away)
            self._emit(finding(F.UNSEEN, f"{span} not seen while the monitor was away (disconnected from its broker "
                                         f"{when})", dev, track, ref(track.last),
                               ref(after), seqs=seqs, count=count, error=False,
                               info={"waited_s": round(max(waited, 0.0), 3), "away_from": away[0],
                                     "away_to": None if away[1] == INF else away[1]}))
        else:
            reason = f": {why}" if why else f" within {self.reorder_timeout:g} s"
            self._emit(finding(F.LOST, f"{span} never received{reason}", dev, track, ref(track.last), ref(after),
                               seqs=seqs, count=count, info={"waited_s": round(max(waited, 0.0), 3)}))
        track.lost.append([lo, hi])
        if len(track.lost) > self.limits.lost_ranges:
            track.floor = max(track.floor, track.lost.pop(0)[1] + 1)
        self._delivery.mark(track, Mark("gap", count))
        track.next = hi + 1
        pending = track.pending
        while track.next in pending:
            m = pending.pop(track.next)
            track.next += 1
            self._delivery.deliver(dev, track, m)
        if pending:
            track.gap_t = min(p.t for p in pending.values())

    def _due(self, track: Track) -> float | None:
        """When the boot's hold or gap is judged next (None: nothing waits)."""
        if not track.pending:
            return None
        if track.start is None:
            return track.hold_until
        return track.gap_t + self.reorder_timeout

    def _retire(self, dev: Device, track: Track) -> None:
        """A boot leaves the table (`Boots`): what it still holds is judged now."""
        self._release(track)
        self._drain(dev, track, INF, "its boot was retired from the monitor's table")

    def expire(self, dev: Device, now: float) -> float | None:
        """Judge every boot's holds and gaps due by `now`; when the next is due (None: nothing waits)."""
        nxt = None
        for track in list(dev.tracks.values()):
            self._drain(dev, track, now)
            due = self._due(track)
            if due is not None and (nxt is None or due < nxt):
                nxt = due
        return nxt

    def finish(self, dev: Device) -> None:
        """The stream ended: open holds and gaps are judged now (lost, as far as it goes)."""
        for track in list(dev.tracks.values()):
            self._release(track)
            self._drain(dev, track, INF, "the stream ended first")


def _unlose(track: Track, span: list[int], seq: int) -> None:
    """`seq`, called lost in `span`, arrived after all: the span no longer holds it."""
    lo, hi = span
    track.lost.remove(span)
    if lo < seq:
        track.lost.append([lo, seq - 1])
    if seq < hi:
        track.lost.append([seq + 1, hi])
