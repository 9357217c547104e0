"""Handing each boot's messages to the device model, in `seq` order, and turning what it finds into findings.

The model (`init()`, `step()`, `parse_command()`: `monitor.model` by default) owns the state rules; it is
fed each boot's live messages once the ordering has put them in order, the retained snapshot it may start
from, and two marks of the checker's own (`Mark`): `boot` (nothing precedes what follows: the node just
started) and `gap` (`count` messages are missing here). It knows nothing of `seq`, sessions or time; the
checker knows nothing of LEDs or buttons.

Also the one envelope rule that needs delivery order: within a boot, `sess` never goes down.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from monitor import findings as F
from monitor.checker.devices import RING, Device, Track, finding, ref
from monitor.message import Message


class Mark(NamedTuple):
    """An input the checker makes for the model: `boot` (nothing precedes what follows: the node just
    started) or `gap` (`count` messages are missing here)."""

    kind: str
    count: int = 0
    retained: bool = False
    body: Any = None
    command: Any = None
    seq: None = None


BOOT = Mark("boot")


class Delivery:
    __slots__ = ("model", "view", "_emit")

    def __init__(self, model: Any, view: bool, emit: Callable[[F.Finding], None]) -> None:
        self.model = model
        self.view = view
        """Keep snapshot bodies for the live view; without it a body is let go once the model has read it."""
        self._emit = emit

    def deliver(self, dev: Device, track: Track, m: Message) -> None:
        """`m` is the next of its boot, in `seq` order: the model reads it."""
        seq: int = m.seq  # type: ignore[assignment]
        sess: int = m.sess  # type: ignore[assignment]
        kind = m.kind
        track.ring[seq % RING] = (seq, m.line, m.wall, kind, m.ver, sess)  # (`wall`: set by `parse()`)
        if sess != track.sess_delivered:
            if sess < track.sess_delivered:
                self._emit(finding(F.INCONSISTENT, f"seq {seq} carries session {sess}, but an earlier seq already "
                                                   f"carried session {track.sess_delivered}: sessions only rise",
                                   dev, track, ref(track.last), ref(m), seqs=(seq,),
                                   expected={"sess": f">= {track.sess_delivered}"}, seen={"sess": sess}))
            else:
                track.sess_delivered = sess
        if track.baseline_seq is not None and seq <= track.baseline_seq:
            track.last = m
            return  # already reflected in the retained snapshot the model started from
        state = track.state
        is_snapshot = kind == "state"
        if is_snapshot:
            dev.snapshots += 1
            dev.snapshots_checked += getattr(state, "ver", None) is not None
        state, problems = self.model.step(state, m)
        track.state = state
        if problems:
            self.problems(dev, track, m, problems)
        track.last = m
        if is_snapshot:
            track.last_snap = m
            if not self.view:
                m.body = None  # read: only its envelope is kept, as a witness (the largest body there is)

    def baseline(self, dev: Device, track: Track, m: Message) -> None:
        """A retained snapshot of a boot before anything live of it was delivered: the model may start from it
        (then the live messages up to its `seq` are already reflected in it)."""
        state, problems = self.model.step(track.state, m)
        if state is not track.state and track.baseline_seq is None:
            track.baseline_seq = m.seq
            track.last_snap = m
        track.state = state
        self.problems(dev, track, m, problems)

    def mark(self, track: Track, mark: Mark) -> None:
        """The model is told of a boot's start or a gap (what it says of a mark is nothing to report)."""
        track.state, _ = self.model.step(track.state, mark)

    def problems(self, dev: Device, track: Track, m: Message, problems: Iterable[Any]) -> None:
        """What the model found in `m`, as findings (with the round trip of the command concerned, if known)."""
        witness = ref(m)
        what = f"{m.kind} seq {m.seq}" + (f" ver {m.ver}" if m.ver is not None else "")
        where = f"{what}{' (retained)' if m.retained else ''}"
        for p in problems:
            info = dict(p.info or {})
            cid = info.get("command")
            if cid is not None and cid in dev.rtt_of:
                info["rtt_ms"] = dev.rtt_of[cid]
            refs = (ref(track.last_snap), witness) if m.kind == "state" and track.last_snap is not m else (witness,)
            self._emit(F.Finding(p.kind, f"{where}: {p.detail}", dev.name, track.boot, seqs=(m.seq,) if m.seq else (),
                                 messages=tuple(r for r in refs if r is not None), expected=p.expected, seen=p.seen,
                                 info=info, error=True,
                                 count=int(info.get("count", 1))))
