"""The streaming checker: fed what was received, in arrival order, it finds what was lost, duplicated,
reordered, dropped on the device, inconsistent, unacked or malformed, and says when a node rebooted or
reconnected. One core for live and offline checking: `record`/`watch` feed it as messages arrive and
tick it with the receiver's monotonic clock; `check` replays a recording, the arrival times driving the clock.

Time: every timer (reorder, command, the hold at a boot's start) runs on the monotonic arrival time a
recording line carries (`m`); the wall time (`t`) is only shown. A line without `m` (an old recording, or
a monotonic clock that went back: a reboot of the monitor's machine between two runs) falls back to the
wall time, never going back. When the wall and monotonic clocks disagree between two lines by more than
`CLOCK_STEP_S`, that is a `clock_step` note, never a device's fault.

Limits (nothing forgotten unsaid): past `Limits.commands` waiting commands the oldest is no longer tracked
(an `untracked` note says how many, from when to when; an ack that may be theirs is counted, never called
inconsistent); past `max_devices` devices, new device ids are counted, not checked (an `untracked` note).

The recorder's own absences (its `Mark` lines: `disconnected`, `reconnected`) make a gap that overlaps one
`unseen` ("not seen while the monitor was away"), not `lost`. A `$SYS/broker/publish/messages/dropped`
counter (Mosquitto) that rises is a `broker_dropped` note.

It owns the envelope rules of docs/protocol.md (per device and `boot`, live `seq` runs 1, 2, 3, ... in
publish order) and the matching of commands (`cmd`) to acks (by `id`); the device model (`init()`,
`step()`, `parse_command()`: `monitor.model` by default) owns the state rules and is fed each boot's
messages in `seq` order, with `boot`/`gap` marks where the stream starts or has holes. The checker knows
nothing of LEDs or buttons.

How a `seq` is judged, per device and boot (every rule bounded in memory, see `Limits`):
- it is delivered to the model when every lower `seq` has been delivered or called lost;
- a gap is held open for `reorder_timeout` seconds from the arrival of the first message beyond it; a
  message filling it in time is `reordered` (recovered, not an error); after that the gap is `lost`,
  and a message arriving later still is `reordered` with `late` (an error);
- the same `seq` again is a `duplicate`: an error, unless the copy carries an older `sess` than the
  boot's newest, i.e. the node resent it after reconnecting (QoS 1 allows that; `resend` in `info`);
- the first messages of a boot joined midway are held for `reorder_timeout` too, since a lower `seq`
  may still be on its way; a boot seen from `seq` 1 needs no wait;
- retained replays are history: counted, shown, and used as the model's baseline when nothing live
  came before them in that boot, never part of the live ordering.

Findings are emitted (to `on_finding`) as soon as they are certain; `finish()` ends a stream (gaps
still open are lost, as far as the recording goes).
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, NamedTuple

from monitor import findings as F
from monitor import model as default_model
from monitor.message import Malformed, Message, parse, parse_payload, split_topic
from monitor.record import Record
from monitor.recording import BadLine, Items, Mark as RecorderMark, decode_item, text_fields

REORDER_TIMEOUT = 2.0
COMMAND_TIMEOUT = 10.0
INF = float("inf")
CLOCK_STEP_S = 1.0
"""Wall and monotonic time between two lines disagreeing by more than this is a step of the wall clock (a
`clock_step` note). NTP slews by well under a millisecond a second; a clock set by hand, a virtual machine
resumed, or a laptop woken from sleep disagrees by seconds or more."""
MAX_DEVICES = 10_000
"""Devices tracked at most, by default (`--max-devices`): about 2 to 4 KiB each once seen (docs/benchmarks.md)."""
AWAY_KEPT = 64
"""The recorder's most recent absences remembered (to tell a gap that overlaps one from a loss)."""
UNTRACKED_IDS = 10_000
"""Distinct untracked device ids counted at most (beyond, "more than")."""
BROKER_DROPPED_TOPIC = "$SYS/broker/publish/messages/dropped"
"""Where Mosquitto (2.0) says how many messages it dropped (queues full), every `sys_interval` seconds."""


@dataclass(frozen=True)
class Limits:
    """The most the checker keeps per device; past these it forgets the oldest (and says so)."""

    boots: int = 4
    """Boots whose ordering is tracked (older ones are summarised)."""
    boot_summaries: int = 16
    pending: int = 1024
    """Messages held behind a gap; when more arrive the gap is called lost at once."""
    lost_ranges: int = 32
    """Recently lost `seq` ranges, to tell a late arrival from a duplicate."""
    commands: int = 256
    """Commands waiting for an ack (past it the oldest is no longer tracked, and an `untracked` note says so)."""
    rtts: int = 256


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

_RING = 8  # recently delivered seqs remembered per boot, to show a duplicate's first copy


def _ref(m: Message | None) -> F.Ref | None:
    if m is None:
        return None
    return F.Ref(line=m.line, t=m.t if m.wall is None else m.wall, topic=m.kind, seq=m.seq, ver=m.ver,
                 retained=m.retained, sess=m.sess)


def _wall(m: Message) -> float:
    return m.t if m.wall is None else m.wall


def clock_span(start: float, end: float) -> str:
    """`from HH:MM:SS.mmm to HH:MM:SS.mmm` (local time), with the dates when the two are on different days."""
    days = time.strftime("%Y-%m-%d", time.localtime(start)) != time.strftime("%Y-%m-%d", time.localtime(end))
    fmt = "%Y-%m-%d %H:%M:%S" if days else "%H:%M:%S"

    def show(t: float) -> str:
        return time.strftime(fmt, time.localtime(t)) + f".{int(t * 1000) % 1000:03d}"

    return f"at {show(start)}" if start == end else f"from {show(start)} to {show(end)}"


@dataclass(slots=True)
class _Sent:
    """A command seen on the `cmd` topic, waiting for its ack."""

    command: Any
    t: float
    message: Message
    """The `cmd` message (its `Ref` is made only if a finding needs it: that costs more than all the rest)."""
    lost_before: int


class Track:
    """One boot of one device: its live ordering and its model state."""

    __slots__ = ("boot", "first_line", "live", "retained", "seq_first", "seq_last", "sess_first", "sess_max",
                 "sess_delivered", "start", "hold_until", "next", "pending", "gap_t", "top", "lost", "floor",
                 "state", "baseline_seq", "last", "last_snap", "will_sess", "ring")

    def __init__(self, boot: str, line: int, state: Any) -> None:
        self.boot = boot
        self.first_line = line
        self.live = 0
        self.retained = 0
        self.seq_first: int | None = None
        self.seq_last: int | None = None
        self.sess_first: int | None = None
        self.sess_max: int | None = None          # newest live session
        self.sess_delivered = 0
        self.start: int | None = None             # first seq of the live window (None: still holding)
        self.hold_until: float | None = None
        self.next: int | None = None              # the next seq to deliver
        self.pending: dict[int, Message] = _NONE  # arrived, waiting behind a gap (or the hold; its own once used)
        self.gap_t = 0.0                          # when the gap at `next` became visible
        self.top = 0                              # highest live seq seen
        self.lost: list[list[int]] = []           # recently lost [lo, hi] ranges (oldest first)
        self.floor = 0                            # below this, too old to tell late from duplicate
        self.state = state
        self.baseline_seq: int | None = None      # retained snapshot the model started from
        self.last: Message | None = None          # last delivered
        self.last_snap: Message | None = None     # last snapshot delivered (or the retained baseline)
        self.will_sess: int | None = None         # session whose Last Will arrived
        self.ring: list[tuple[Any, ...] | None] = [None] * _RING  # (seq, line, t, kind, ver, sess)

    def summary(self) -> F.BootSummary:
        return F.BootSummary(self.boot, self.first_line, self.live, self.retained, self.seq_first, self.seq_last,
                             self.sess_first, self.sess_max)


class Device:
    """What the checker keeps for one device (bounded by `Limits`), and what the live view shows. A device
    seen once costs little: the tables for commands, acks and old boots are made when first needed."""

    __slots__ = ("name", "tracks", "current", "old_boots", "counts", "tally", "commands", "unreadable", "expired",
                 "orphans", "rtts", "rtt_of", "sent", "acked_ok", "rejected", "unacked", "late_acks", "evicted",
                 "rtt_max", "snapshots", "snapshots_checked", "stale_wills", "lost", "scheduled", "online",
                 "last_seen", "malformed", "view", "fw", "untracked", "forgot_until", "unmatched")

    def __init__(self, name: str) -> None:
        self.name = name
        self.tracks: dict[str, Track] = {}        # oldest boot first
        self.current: Track | None = None
        self.old_boots: deque[F.BootSummary] | None = None
        self.counts: dict[str, list[int]] = {}
        self.tally: dict[str, list[int]] = {}     # kind -> [findings, errors]
        self.commands: dict[str, _Sent] = _NONE   # (each table: a shared empty one until the first entry)
        self.unreadable: deque[_Sent] = _NO_QUEUE
        self.expired: deque[str] = _NO_QUEUE
        self.orphans: deque[tuple[Message, float]] = _NO_QUEUE
        self.rtts: deque[float] = _NO_QUEUE
        self.rtt_of: dict[str, float] = _NONE
        self.sent = self.acked_ok = self.rejected = self.unacked = self.late_acks = self.evicted = 0
        self.rtt_max: float | None = None
        self.snapshots = self.snapshots_checked = 0
        self.stale_wills = 0
        self.lost = 0                             # messages called lost (or unseen), over all boots
        self.scheduled: float | None = None
        self.untracked: list[Any] | None = None   # commands no longer tracked, not yet said: [n, first, last]
        self.forgot_until = -INF                  # until then an ack for no tracked command may be theirs
        self.unmatched = 0                        # such acks
        # the live view
        self.online: bool | None = None
        self.last_seen: float | None = None       # wall clock
        self.malformed = 0                        # malformed messages (not in `counts`)
        self.view: dict[str, Any] = _NONE
        self.fw: str | None = None

    @property
    def messages(self) -> int:
        """Messages received from the device: the valid ones of every kind, and the malformed ones."""
        return sum(live + retained for live, retained in self.counts.values()) + self.malformed

    def finding_counts(self) -> dict[str, int]:
        return {kind: n for kind, (n, _) in self.tally.items()}


class _Empty(dict):  # type: ignore[type-arg]
    """The shared empty table a device starts with (read-only: writing to it is a bug)."""

    def __setitem__(self, key: Any, value: Any) -> None:
        raise TypeError("a device's shared empty table: make its own first")


class _EmptyQueue(deque):  # type: ignore[type-arg]
    def append(self, item: Any) -> None:
        raise TypeError("a device's shared empty queue: make its own first")


_NONE: dict[Any, Any] = _Empty()
_NO_QUEUE: deque[Any] = _EmptyQueue()


class Checker:
    """The streaming checker (see the module docstring). Not thread-safe: one owner feeds and ticks it."""

    def __init__(self, model: Any = default_model, *, reorder_timeout: float = REORDER_TIMEOUT,
                 command_timeout: float = COMMAND_TIMEOUT, on_finding: Callable[[F.Finding], None] | None = None,
                 limits: Limits = Limits(), max_devices: int = MAX_DEVICES, view: bool = True) -> None:
        self.model = model
        self.view = view
        """Keep each device's last snapshot for a live view (`Device.view`). Without it, a snapshot's body is let
        go once the model has read it: the message stays only as a witness (its envelope)."""
        self.reorder_timeout = reorder_timeout
        self.command_timeout = command_timeout
        self.limits = limits
        self.max_devices = max_devices
        # the clock: `_when()` maps each line's (wall, monotonic) arrival to the checker's time
        self._e: float | None = None               # the checker's time of the last line
        self._wall = INF                           # its wall time (none yet: no line is at or after it)
        self._mono: float | None = None            # its monotonic time (None: that line had none)
        self._off: float | None = None             # checker's time - monotonic time, in the current epoch
        self._woff = 0.0                           # checker's time - wall time, for lines without monotonic time
        # the recorder's absences: (from, to) on the checker's clock, (from, to) by the wall clock
        self.away: deque[tuple[float, float, float, float]] = deque(maxlen=AWAY_KEPT)
        self._away_since: tuple[float, float] | None = None
        # devices beyond `max_devices`
        self.untracked_ids: set[str] = set()
        self.untracked_more = False                # more than UNTRACKED_IDS of them
        self.untracked_messages = 0
        self.broker_dropped: int | None = None     # the broker's last word on messages it dropped
        self.on_finding = on_finding
        self.devices: dict[str, Device] = {}
        self.clock: float | None = None
        self.started: float | None = None
        self.lines = 0
        self.torn = False
        self.loose_tally: dict[str, list[int]] = {}
        self._timers: list[tuple[float, int, str]] = []
        self._timer_seq = 0
        self._next_timer = INF                     # when the first timer is due (`_timers[0]`; INF: none)
        self._init = model.init()

    # --- findings ------------------------------------------------------------------------------

    def _emit(self, finding: F.Finding) -> None:
        dev = self.devices.get(finding.device) if finding.device is not None else None
        tally = dev.tally if dev is not None else self.loose_tally
        counts = tally.get(finding.kind)
        if counts is None:
            counts = tally[finding.kind] = [0, 0]
        counts[0] += 1
        counts[1] += finding.error
        if self.on_finding is not None:
            self.on_finding(finding)

    def _found(self, kind: str, detail: str, dev: Device, track: Track | None, *refs: F.Ref | None,
               error: bool = True, **extra: Any) -> None:
        self._emit(F.Finding(kind, detail, dev.name, track.boot if track is not None else None,
                             messages=tuple(r for r in refs if r is not None), error=error, **extra))

    # --- time ----------------------------------------------------------------------------------

    def _schedule(self, dev: Device, at: float | None) -> None:
        if at is None or (dev.scheduled is not None and dev.scheduled <= at):
            return
        dev.scheduled = at
        self._timer_seq += 1
        heapq.heappush(self._timers, (at, self._timer_seq, dev.name))
        self._next_timer = self._timers[0][0]

    def _when(self, wall: float, mono: float | None, line: int) -> float:
        """The checker's time of line `line`, which arrived at `wall` (epoch seconds) and `mono` (monotonic
        seconds, None when the line has none): the monotonic time, shifted to start where the wall time did;
        the wall time (shifted likewise) where there is no monotonic time to follow. Never goes back. A
        disagreement between the two clocks is a `clock_step` note. (`feed_lines()` has the common case of a
        line without `mono` in short.)"""
        e0 = self._e
        if e0 is None:
            e = wall
            self._woff = 0.0
            if mono is not None:
                self._off = wall - mono
        elif mono is not None and self._mono is not None and mono >= self._mono:
            e = mono + self._off  # type: ignore[operator]
            step = (wall - self._wall) - (e - e0)
            if step > CLOCK_STEP_S or step < -CLOCK_STEP_S:
                self._clock_step(step, self._wall, wall, line, "")
            if e < e0:
                e = e0
            self._woff = e - wall
        else:
            e = wall + self._woff
            if e < e0:  # the wall clock went back: wait for it to catch up
                e = e0
                self._woff = e0 - wall
            if mono is not None:  # a new monotonic epoch: the first line with one, or the clock began again
                if self._mono is not None:
                    self._clock_step(None, self._wall, wall, line, " (the monotonic clock began again: the monitor's "
                                                                   "machine restarted; the wall clock bridges the two)")
                self._off = e - mono
            elif wall - self._wall < -CLOCK_STEP_S:
                self._clock_step(wall - self._wall, self._wall, wall, line, " (this line has no monotonic time: the "
                                                                            "checker's clock waits for the wall "
                                                                            "clock to catch up)")
        self._e, self._wall, self._mono = e, wall, mono
        return e

    def _clock_step(self, step: float | None, before: float, after: float, line: int, why: str) -> None:
        """A `clock_step` note between the line before `line` (at wall time `before`) and `line` (`after`)."""
        what = f"the wall clock stepped by {step:+.3f} s" if step is not None else "the clocks were re-anchored"
        self._emit(F.Finding(F.CLOCK_STEP, f"{what} between two arrivals{why}; the timers run on the monotonic "
                                           "clock: nothing is blamed on the devices",
                             messages=(F.Ref(max(line - 1, 0), before), F.Ref(line, after)),
                             error=False, info={"step_s": None if step is None else round(step, 3)}))

    def advance_monotonic(self, mono: float) -> None:
        """`advance()` to the monotonic time `mono` (the receiver's word: every message that arrived before it
        is in the recording)."""
        if self._off is not None and self._mono is not None and mono >= self._mono:
            self.advance(mono + self._off)

    def advance(self, now: float) -> None:
        """Time is now `now` (the checker's clock: see `_when()`): hold-backs, gaps and commands whose time is up
        are judged."""
        if self.clock is None or now > self.clock:
            self.clock = now
        timers = self._timers
        while timers and timers[0][0] <= now:
            at, _, name = heapq.heappop(timers)
            dev = self.devices.get(name)
            if dev is None or dev.scheduled != at:
                continue  # superseded by an earlier timer
            dev.scheduled = None
            self._expire(dev, now)
        self._next_timer = timers[0][0] if timers else INF

    def _expire(self, dev: Device, now: float) -> None:
        nxt: list[float] = []
        for track in list(dev.tracks.values()):
            self._drain(dev, track, now)
            due = self._due(track)
            if due is not None:
                nxt.append(due)
        limit = self.command_timeout
        for table in (dev.commands, dev.unreadable):
            while table:
                sent = next(iter(table.values())) if type(table) is dict else table[0]
                if sent.t + limit > now:
                    nxt.append(sent.t + limit)
                    break
                if type(table) is dict:
                    cid = next(iter(table))
                    del table[cid]
                    if dev.expired is _NO_QUEUE:
                        dev.expired = deque(maxlen=64)
                    dev.expired.append(cid)
                else:
                    table.popleft()
                self._unacked(dev, sent)
        if dev.untracked is not None and (len(dev.commands) < self.limits.commands
                                          and len(dev.unreadable) < self.limits.commands
                                          or now >= dev.untracked[1].t + limit):
            self._untracked_commands(dev)
        while dev.orphans:
            ack, t = dev.orphans[0]
            if t + self.reorder_timeout > now:
                nxt.append(t + self.reorder_timeout)
                break
            dev.orphans.popleft()
            self._orphan(dev, ack)
        if nxt:
            self._schedule(dev, min(nxt))

    def _due(self, track: Track) -> float | None:
        if not track.pending:
            return None
        if track.start is None:
            return track.hold_until
        return track.gap_t + self.reorder_timeout

    # --- input ---------------------------------------------------------------------------------

    def feed(self, item: Record | BadLine, line: int = 0) -> None:
        """One received item, in arrival order; `line` is its line in the recording (0 if none)."""
        if line > self.lines:
            self.lines = line
        if isinstance(item, BadLine):
            if item.torn:
                self.torn = True
            else:
                self._emit(F.Finding(F.MALFORMED, f"line {item.line}: {item.reason}", messages=(F.Ref(item.line),)))
            return
        last = self._e, self._wall                 # (the line before this one)
        e = self._when(item.t, item.mono, line)
        if type(item) is RecorderMark:
            self._tick(e)
            self._recorder(item, e, last)
            return
        try:
            m = parse(item, line, e)
        except Malformed as exc:
            self._tick(e)
            if item.topic == BROKER_DROPPED_TOPIC:
                self._broker_dropped(item, line)
                return
            self._malformed(item, line, exc, e)
            return
        self._accept(m, item.payload)

    def feed_lines(self, lines: Iterable[tuple[int, bytes]]) -> None:
        """Lines of a recording, undecoded, as `(number, line)` in increasing order: each as if it were
        `feed(recording.decode_item(number, line), number)`, but with no `Record` in between for the usual
        line (a valid record whose text payload is a valid message). `lines` is brought up to date at the end."""
        line = 0
        try:
            when = self._when
            for line, raw in lines:
                fields = text_fields(raw)
                if fields is not None:
                    t, topic, retain, text, mono = fields
                    if mono is None and t >= self._wall and self._mono is None:
                        e = self._e = t + self._woff  # `when()`, in short: no monotonic time, no step back
                        self._wall = t
                    else:
                        e = when(t, mono, line)
                    try:
                        m = parse_payload(topic, e, retain, text, line, t)
                    except Malformed:
                        pass  # `feed()` reports it (its `_when()` of the same line again changes nothing)
                    else:
                        self._accept(m, text)
                        continue
                self.feed(decode_item(line, raw), line)
        finally:
            if line > self.lines:
                self.lines = line

    def _tick(self, t: float) -> None:
        """A message arrived at `t`: the clock moves on (judging what is due by then)."""
        if self.started is None:
            self.started = t
        if t >= self._next_timer:
            self.advance(t)
        elif self.clock is None or t > self.clock:
            self.clock = t

    def _accept(self, m: Message, payload: bytes | str) -> None:
        """A valid message (`payload`: its bytes, or the text they decode to): the clock moves to its arrival,
        then the message goes where its kind says (a live one that is simply the next in line is seen to here,
        in short; `_live()` takes the others)."""
        t = m.t
        if self.started is None:  # `_tick(t)`, inlined: this runs for every message
            self.started = t
        if t >= self._next_timer:
            self.advance(t)
        elif self.clock is None or t > self.clock:
            self.clock = t
        try:
            dev = self.devices[m.device]
        except KeyError:
            dev = self._new_device(m.device, _wall(m), m.line)
            if dev is None:
                return
        kind, retained = m.kind, m.retained
        try:  # (an int index, not the bool: indexing a list with a bool takes the slow way)
            dev.counts[kind][1 if retained else 0] += 1
        except KeyError:  # the device's first message of this kind
            dev.counts[kind] = [0, 1] if retained else [1, 0]
        dev.last_seen = m.wall
        seq = m.seq
        if kind == "cmd":
            if not retained:  # a retained one is the broker's replay of an old command: the node ignores it too
                self._command(dev, m, payload if type(payload) is bytes else payload.encode("utf-8"))
            return
        if seq is None:
            self._will(dev, m)
            return
        if retained:
            self._retained(dev, m)
            return
        track = dev.current
        if track is None or seq != track.next or track.boot != m.boot or track.pending \
                or m.sess != track.sess_max:
            self._live(dev, m)
            return
        # The common case, in short (what `_live()` would do with it): the next in line of the current boot, in
        # the same session, nothing waiting (so every live seq seen so far is below it: it is the new `seq_last`,
        # and `seq_first` stands).
        track.live += 1
        track.seq_last = track.top = seq
        track.next = seq + 1
        if kind == "ack":
            m = self._match_ack(dev, m)
        self._deliver(dev, track, m)
        if kind == "status":
            self._show(dev, track, m)
        else:  # `_show()`, for any other live message of the current boot
            if kind == "state" and self.view:
                dev.view = m.body
            dev.online = True

    def _new_device(self, name: str, wall: float, line: int) -> Device | None:
        """A device seen for the first time: tracked from now on, or None beyond `max_devices` (counted: the
        first one untracked is an `untracked` note)."""
        if len(self.devices) < self.max_devices:
            dev = self.devices[name] = Device(name)
            return dev
        self.untracked_messages += 1
        ids = self.untracked_ids
        if name not in ids:
            if len(ids) < UNTRACKED_IDS:
                ids.add(name)
                if len(ids) == 1:
                    self._emit(F.Finding(F.UNTRACKED, f"more than {self.max_devices} devices: {name!r} and every "
                                                      "device first seen after it are not checked (their messages "
                                                      "are counted; see --max-devices)", messages=(F.Ref(line, wall),),
                                         error=False, info={"what": "devices", "limit": self.max_devices,
                                                            "first": name}))
            else:
                self.untracked_more = True
        return None

    def _malformed(self, record: Record, line: int, exc: Malformed, e: float) -> None:
        try:
            _, kind = split_topic(record.topic)
        except Malformed:
            kind = record.topic
        ref = F.Ref(line=line, t=record.t, topic=kind, retained=record.retain)
        where = f"line {line}: " if line else ""
        if exc.device is not None:
            dev = self.devices.get(exc.device)
            if dev is None:
                dev = self._new_device(exc.device, record.t, line)
                if dev is None:
                    return
            dev.malformed += 1
            dev.last_seen = record.t
            self._emit(F.Finding(F.MALFORMED, f"{where}{kind}: {exc.reason}", exc.device, messages=(ref,)))
        else:
            self._emit(F.Finding(F.MALFORMED, f"{where}{exc.reason}", messages=(ref,)))

    # --- the monitor's own absences, the broker's word ----------------------------------------------

    def _recorder(self, mark: RecorderMark, e: float, last: tuple[float | None, float]) -> None:
        """The recorder lost its broker (`disconnected`) or has it back (`reconnected`): what was published
        meanwhile was never seen. `last`: the time of the line before (checker's clock, wall clock)."""
        if mark.event == "disconnected":
            if self._away_since is None:
                self._away_since = (e, mark.t)
            return
        since = self._away_since
        if since is None:  # back with no word of leaving (its receiver killed first?): away since the line before
            since = (e, mark.t) if last[0] is None else (last[0], last[1])
        self._away_since = None
        self.away.append((since[0], e, since[1], mark.t))

    def _away_during(self, start: float, end: float) -> tuple[float, float] | None:
        """The recorder's absence (wall clock from, to) overlapping the time from `start` to `end` (checker's
        clock), if any."""
        for a_from, a_to, w_from, w_to in reversed(self.away):
            if a_from <= end and a_to >= start:
                return w_from, w_to
        if self._away_since is not None and self._away_since[0] <= end:
            return self._away_since[1], INF
        return None

    def _broker_dropped(self, record: Record, line: int) -> None:
        """Mosquitto's count of messages it dropped (any client's queue full: perhaps ours)."""
        try:
            now = int(record.payload.decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            self._emit(F.Finding(F.MALFORMED, f"line {line}: {record.topic}: not a count",
                                 messages=(F.Ref(line, record.t, record.topic),)))
            return
        before = self.broker_dropped
        self.broker_dropped = now
        if before is not None and now > before:
            self._emit(F.Finding(F.BROKER_DROPPED, f"the broker says it dropped {now - before} message(s) "
                                                   f"({record.topic} went from {before} to {now}): queues full, "
                                                   "perhaps the monitor's own (see docs/monitor.md on sizing the "
                                                   "broker's queue); messages lost meanwhile may be among them",
                                 messages=(F.Ref(line, record.t, record.topic),), error=False, count=now - before,
                                 info={"before": before, "after": now}))

    # --- boots and sessions ------------------------------------------------------------------------

    def _track(self, dev: Device, m: Message) -> Track | None:
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
            self._close_track(dev, old)
        if previous is not None:
            gone = " after its Last Will" if previous.will_sess is not None else ""
            self._found(F.REBOOT, f"new boot {m.boot} (after {previous.boot}{gone})", dev, track, _ref(m),
                        error=False)
        return track

    def _close_track(self, dev: Device, track: Track) -> None:
        """A boot leaves the bounded table: whatever it still holds is judged now."""
        if track.pending:
            self._release(dev, track)
            self._drain(dev, track, float("inf"), "its boot was retired from the monitor's table")
        if dev.old_boots is None:
            dev.old_boots = deque()
        dev.old_boots.append(track.summary())
        while len(dev.old_boots) > self.limits.boot_summaries:
            dev.old_boots.popleft()

    def _will(self, dev: Device, m: Message) -> None:
        track = dev.tracks.get(m.boot)  # type: ignore[arg-type]
        if track is None or track is not dev.current:
            dev.stale_wills += 1  # an old boot's goodbye, arriving after the node came back
            return
        if track.sess_max is not None and m.sess < track.sess_max:  # type: ignore[operator]
            dev.stale_wills += 1  # an old session's goodbye, after the node reconnected
            return
        track.will_sess = m.sess
        dev.online = False

    # --- retained ------------------------------------------------------------------------------------

    def _retained(self, dev: Device, m: Message) -> None:
        track = self._track(dev, m)
        if track is None:
            return  # history of a boot long gone
        track.retained += 1
        if track.sess_first is None:
            track.sess_first = m.sess
        if track.next is None and track.live == 0:
            self._show(dev, track, m)
        if m.kind == "state" and track.next is None and track.start is None:
            state, problems = self.model.step(track.state, m)
            if state is not track.state and track.baseline_seq is None:
                track.baseline_seq = m.seq
                track.last_snap = m
            track.state = state
            self._problems(dev, track, m, problems)

    # --- live ordering -------------------------------------------------------------------------------

    def _live(self, dev: Device, m: Message) -> None:
        """A live message: its place in its boot's order. (`_accept()` sees to the common case in short: the
        next in line of the current boot, in its session, nothing waiting; this would do the same with it.)"""
        track = dev.current
        seq: int = m.seq  # type: ignore[assignment]
        if track is None or track.boot != m.boot:
            track = self._track(dev, m)
        if track is None:
            self._emit(F.Finding(F.REORDERED, f"seq {seq} of boot {m.boot} arrived after the device had moved on "
                                              f"to {len(dev.tracks)} newer boots (too old to tell a late message "
                                              "from a duplicate)", dev.name, m.boot, seqs=(seq,),
                                 messages=(_ref(m),), info={"late": True}))  # type: ignore[arg-type]
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
            self._found(F.RECONNECT, f"new MQTT session {sess} (was {track.sess_max}){after}", dev, track, _ref(m),
                        error=False)
            track.sess_max = sess
        nxt = track.next
        if (nxt is not None and seq < nxt) or seq in track.pending:
            self._again(dev, track, m, seq)
            return
        if m.kind == "ack":
            m = self._match_ack(dev, m)
        if seq == nxt and not track.pending:  # the common case: next in line
            track.top = seq
            track.next = seq + 1
            self._deliver(dev, track, m)
            self._show(dev, track, m)
            return
        if seq < track.top:
            resent = " (resent after a reconnect)" if sess < track.sess_max else ""
            self._found(F.REORDERED, f"seq {seq} arrived after seq {track.top}{resent}", dev, track, _ref(m),
                        error=False, seqs=(seq,), info={"recovered": True, "resend": bool(resent)})
        else:
            track.top = seq
            self._show(dev, track, m)
        if not track.pending:
            track.gap_t = m.t
        if track.pending is _NONE:
            track.pending = {}
        track.pending[seq] = m
        if track.start is None:
            if seq == 1 or (track.baseline_seq is not None and seq == track.baseline_seq + 1):
                self._release(dev, track)
            elif track.hold_until is None:
                track.hold_until = m.t + self.reorder_timeout
        self._drain(dev, track, self.clock or m.t)
        if len(track.pending) > self.limits.pending:
            self._release(dev, track)
            self._drain(dev, track, self.clock or m.t)
            while len(track.pending) > self.limits.pending:
                self._lose_gap(dev, track, f"more than {self.limits.pending} messages waited behind it")
        self._schedule(dev, self._due(track))

    def _again(self, dev: Device, track: Track, m: Message, seq: int) -> None:
        """A `seq` at or below what was delivered, or already waiting: late, or a duplicate."""
        for span in track.lost:
            if span[0] <= seq <= span[1]:
                self._unlose(track, span, seq)
                self._found(F.REORDERED, f"seq {seq} arrived after it was called lost (reorder timeout "
                                         f"{self.reorder_timeout:g} s)", dev, track, _ref(m), seqs=(seq,),
                            info={"late": True})
                return
        if track.start is not None and seq < track.start:
            self._found(F.REORDERED, f"seq {seq} arrived after this boot's live window began at seq {track.start} "
                                     f"(reorder timeout {self.reorder_timeout:g} s)", dev, track, _ref(m),
                        seqs=(seq,), info={"late": True})
            return
        resend = m.sess < (track.sess_max or 0)  # type: ignore[operator]
        first = _ref(track.pending.get(seq))
        slot = track.ring[seq % _RING]
        if first is None and slot is not None and slot[0] == seq:
            first = F.Ref(line=slot[1], t=slot[2], topic=slot[3], seq=seq, ver=slot[4], sess=slot[5])
        old = " (too old to tell a duplicate from a late message)" if seq < track.floor else ""
        why = f" (resent with its session {m.sess} after the node reconnected)" if resend else ""
        self._found(F.DUPLICATE, f"seq {seq} received again{why}{old}", dev, track,
                    first, _ref(m), seqs=(seq,), error=not resend,
                    info={"resend": resend})

    def _unlose(self, track: Track, span: list[int], seq: int) -> None:
        lo, hi = span
        track.lost.remove(span)
        if lo < seq:
            track.lost.append([lo, seq - 1])
        if seq < hi:
            track.lost.append([seq + 1, hi])

    def _release(self, dev: Device, track: Track) -> None:
        """End the hold-back at a boot's start: the live window begins at the lowest `seq` that came."""
        if track.start is not None or not track.pending:
            return
        start = min(track.pending)
        track.start = track.next = track.floor = start
        track.hold_until = None
        if start == 1:
            track.state, _ = self.model.step(track.state, BOOT)
            track.baseline_seq = None
        elif track.baseline_seq is not None and start > track.baseline_seq + 1:
            track.state, _ = self.model.step(track.state, Mark("gap", start - track.baseline_seq - 1))
        track.gap_t = min(m.t for m in track.pending.values())

    def _drain(self, dev: Device, track: Track, now: float, why: str | None = None) -> None:
        """Deliver what is next in line; call gaps lost whose time is up."""
        if track.start is None:
            if track.hold_until is None or now < track.hold_until or not track.pending:
                return
            self._release(dev, track)
        pending = track.pending
        while pending:
            m = pending.pop(track.next, None)  # type: ignore[arg-type]
            if m is not None:
                track.next += 1  # type: ignore[operator]
                self._deliver(dev, track, m)
                if pending and track.next not in pending:
                    track.gap_t = min(p.t for p in pending.values())
                continue
            if now < track.gap_t + self.reorder_timeout:
                return
            self._lose_gap(dev, track, why)
        track.pending = _NONE  # (an emptied dict keeps the room it grew to)

    def _lose_gap(self, dev: Device, track: Track, why: str | None) -> None:
        """Call the gap at `next` lost (everything up to the lowest waiting `seq`)."""
        lo: int = track.next  # type: ignore[assignment]
        after = track.pending[min(track.pending)]
        hi: int = after.seq - 1  # type: ignore[operator]
        count = hi - lo + 1
        seqs = tuple(range(lo, min(hi, lo + F.SEQS_LISTED - 1) + 1))
        span = f"seq {lo}" if count == 1 else f"seq {lo}..{hi} ({count} messages)"
        waited = (self.clock or after.t) - track.gap_t
        dev.lost += count
        away = self._away_during(track.last.t if track.last is not None else track.gap_t, after.t) \
            if self.away or self._away_since is not None else None
        if away is not None:  # the monitor itself was not listening: no word on the device or its broker
            when = f"since {clock_span(away[0], away[0])[3:]}" if away[1] == INF else clock_span(*away)
            self._found(F.UNSEEN, f"{span} not seen while the monitor was away (disconnected from its broker "
                                  f"{when})", dev, track, _ref(track.last),
                        _ref(after), seqs=seqs, count=count, error=False,
                        info={"waited_s": round(max(waited, 0.0), 3), "away_from": away[0],
                              "away_to": None if away[1] == INF else away[1]})
        else:
            reason = f": {why}" if why else f" within {self.reorder_timeout:g} s"
            self._found(F.LOST, f"{span} never received{reason}", dev, track, _ref(track.last), _ref(after),
                        seqs=seqs, count=count, info={"waited_s": round(max(waited, 0.0), 3)})
        track.lost.append([lo, hi])
        if len(track.lost) > self.limits.lost_ranges:
            track.floor = max(track.floor, track.lost.pop(0)[1] + 1)
        track.state, _ = self.model.step(track.state, Mark("gap", count))
        track.next = hi + 1
        pending = track.pending
        while track.next in pending:
            m = pending.pop(track.next)
            track.next += 1
            self._deliver(dev, track, m)
        if pending:
            track.gap_t = min(p.t for p in pending.values())

    # --- delivery to the model -----------------------------------------------------------------------

    def _deliver(self, dev: Device, track: Track, m: Message) -> None:
        seq: int = m.seq  # type: ignore[assignment]
        sess: int = m.sess  # type: ignore[assignment]
        kind = m.kind
        track.ring[seq % _RING] = (seq, m.line, m.wall, kind, m.ver, sess)  # (`wall`: set by `parse()`, and below)
        if sess < track.sess_delivered:
            self._found(F.INCONSISTENT, f"seq {seq} carries session {sess}, but an earlier seq already "
                                        f"carried session {track.sess_delivered}: sessions only rise",
                        dev, track, _ref(track.last), _ref(m), seqs=(seq,),
                        expected={"sess": f">= {track.sess_delivered}"}, seen={"sess": sess})
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
            self._problems(dev, track, m, problems)
        track.last = m
        if is_snapshot:
            track.last_snap = m
            if not self.view:
                m.body = None  # read: only its envelope is kept, as a witness (the largest body there is)

    def _problems(self, dev: Device, track: Track, m: Message, problems: Iterable[Any]) -> None:
        ref = _ref(m)
        what = f"{m.kind} seq {m.seq}" + (f" ver {m.ver}" if m.ver is not None else "")
        where = f"{what}{' (retained)' if m.retained else ''}"
        for p in problems:
            info = dict(p.info or {})
            cid = info.get("command")
            if cid is not None and cid in dev.rtt_of:
                info["rtt_ms"] = dev.rtt_of[cid]
            refs = (_ref(track.last_snap), ref) if m.kind == "state" and track.last_snap is not m else (ref,)
            self._emit(F.Finding(p.kind, f"{where}: {p.detail}", dev.name, track.boot, seqs=(m.seq,) if m.seq else (),
                                 messages=tuple(r for r in refs if r is not None), expected=p.expected, seen=p.seen,
                                 info=info, error=True,
                                 count=int(info.get("count", 1))))

    # --- commands ------------------------------------------------------------------------------------

    def _command(self, dev: Device, m: Message, payload: bytes) -> None:
        command = self.model.parse_command(payload)
        sent = _Sent(command, m.t, m, dev.lost)
        dev.sent += 1
        cid = command.id
        for i, (ack, _) in enumerate(dev.orphans):  # its ack overtook it
            if ack.body.get("id") == cid:
                del dev.orphans[i]
                self._matched(dev, sent, ack)
                return
        if cid is None:
            if dev.unreadable is _NO_QUEUE:
                dev.unreadable = deque()
            dev.unreadable.append(sent)
            if len(dev.unreadable) > self.limits.commands:
                self._forget(dev, dev.unreadable.popleft())
        else:
            if dev.commands is _NONE:
                dev.commands = {}
            elif cid in dev.commands:
                del dev.commands[cid]  # the id used again: the newer command is the one acked next
            dev.commands[cid] = sent
            if len(dev.commands) > self.limits.commands:
                self._forget(dev, dev.commands.pop(next(iter(dev.commands))))
        self._schedule(dev, m.t + self.command_timeout)

    def _forget(self, dev: Device, sent: _Sent) -> None:
        """More commands wait than `Limits.commands`: the oldest, `sent`, is no longer tracked (said by an
        `untracked` note, one for each run of them); an ack that may be its is not called inconsistent."""
        dev.evicted += 1
        if dev.untracked is None:
            dev.untracked = [1, sent, sent]
        else:
            dev.untracked[0] += 1
            dev.untracked[2] = sent
        until = sent.t + self.command_timeout + self.reorder_timeout
        if until > dev.forgot_until:
            dev.forgot_until = until

    def _untracked_commands(self, dev: Device) -> None:
        """Say which commands are no longer tracked (a run of them, ended)."""
        n, first, last = dev.untracked  # type: ignore[misc]
        dev.untracked = None
        span = clock_span(_wall(first.message), _wall(last.message))
        self._found(F.UNTRACKED, f"{n} command(s) sent {span} are not checked: more than {self.limits.commands} "
                                 "waited for an ack at once, so the oldest were no longer tracked (neither "
                                 "called unacked, nor their acks matched)", dev, dev.current,
                    _ref(first.message), _ref(last.message) if last is not first else None, error=False, count=n,
                    info={"what": "commands", "limit": self.limits.commands,
                          "from": _wall(first.message), "to": _wall(last.message)})

    def _match_ack(self, dev: Device, m: Message) -> Message:
        body = m.body
        cid = body.get("id")
        if isinstance(cid, str):
            sent = dev.commands.pop(cid, None)
        elif cid is None and "id" in body and dev.unreadable:
            sent = dev.unreadable.popleft()
        else:
            sent = None
        if sent is None:
            if isinstance(cid, str) and cid in dev.expired:
                dev.late_acks += 1
            elif cid is None or isinstance(cid, str):
                if dev.orphans is _NO_QUEUE:
                    dev.orphans = deque()
                dev.orphans.append((m, m.t))
                if len(dev.orphans) > self.limits.commands:
                    self._orphan(dev, dev.orphans.popleft()[0])
                self._schedule(dev, m.t + self.reorder_timeout)
            return m
        return self._matched(dev, sent, m)

    def _matched(self, dev: Device, sent: _Sent, ack: Message) -> Message:
        rtt = round((ack.t - sent.t) * 1000.0, 3)
        body = ack.body
        if body.get("ok") is True:
            dev.acked_ok += 1
        else:
            dev.rejected += 1
        if dev.rtts is _NO_QUEUE:
            dev.rtts = deque()
        dev.rtts.append(rtt)
        if len(dev.rtts) > self.limits.rtts:
            dev.rtts.popleft()
        if dev.rtt_max is None or rtt > dev.rtt_max:
            dev.rtt_max = rtt
        key = sent.command.id if sent.command.id is not None else "null"
        if dev.rtt_of is _NONE:
            dev.rtt_of = {}
        dev.rtt_of[key] = rtt
        if len(dev.rtt_of) > 64:
            del dev.rtt_of[next(iter(dev.rtt_of))]
        return Message(ack.device, ack.kind, ack.t, ack.retained, body, ack.boot, ack.sess, ack.seq, ack.ver, ack.line,
                       sent.command, ack.wall)  # `replace(ack, command=...)`, built directly (every ack)

    def _unacked(self, dev: Device, sent: _Sent) -> None:
        dev.unacked += 1
        cid = sent.command.id
        offline = " (the device is offline)" if dev.online is False else ""
        if dev.lost > sent.lost_before:
            offline += f" ({dev.lost - sent.lost_before} message(s) from the device were lost meanwhile: " \
                       "the ack may be among them)"
        self._found(F.UNACKED, f"command {cid!r} got no ack within {self.command_timeout:g} s{offline}",
                    dev, dev.current, _ref(sent.message), info={"command": cid, "rtt_ms": None,
                                                      "timeout_s": self.command_timeout})

    def _orphan(self, dev: Device, ack: Message) -> None:
        if self.started is not None and ack.t - self.started <= self.command_timeout:
            return  # the command may have gone out before the monitor started listening
        if ack.t <= dev.forgot_until:
            dev.unmatched += 1  # it may answer a command no longer tracked (said by an `untracked` note)
            return
        cid = ack.body.get("id")
        self._found(F.INCONSISTENT, f"ack seq {ack.seq} answers command {cid!r}, which never appeared on "
                                    f"pico/{dev.name}/cmd", dev, dev.tracks.get(ack.boot),  # type: ignore[arg-type]
                    _ref(ack), seqs=(ack.seq,), info={"command": cid},  # type: ignore[arg-type]
                    expected={"command": "seen before its ack"}, seen={"ack": {"id": cid}})

    # --- the live view -------------------------------------------------------------------------------

    def _show(self, dev: Device, track: Track, m: Message) -> None:
        if track is not dev.current:
            return
        body = m.body
        kind = m.kind
        if kind == "state":
            if self.view:
                dev.view = body
        elif kind == "status":
            dev.online = body.get("online") is True
            if isinstance(body.get("fw"), str):
                dev.fw = body["fw"]
            return
        if not m.retained:
            dev.online = True

    # --- the end -------------------------------------------------------------------------------------

    def finish(self) -> None:
        """The stream ended: open holds and gaps are judged now (lost, as far as it goes)."""
        for dev in self.devices.values():
            for track in list(dev.tracks.values()):
                self._release(dev, track)
                self._drain(dev, track, float("inf"), "the stream ended first")
            while dev.orphans:
                self._orphan(dev, dev.orphans.popleft()[0])
            if dev.untracked is not None:
                self._untracked_commands(dev)

    def summaries(self, dev: Device) -> tuple[F.BootSummary, ...]:
        return (*(dev.old_boots or ()), *(t.summary() for t in dev.tracks.values()))

    def command_summary(self, dev: Device) -> F.CommandSummary:
        rtts = sorted(dev.rtts)
        median = rtts[len(rtts) // 2] if rtts else None
        waiting = len(dev.commands) + len(dev.unreadable)
        return F.CommandSummary(dev.sent, dev.acked_ok, dev.rejected, dev.unacked, waiting, dev.late_acks,
                                dev.rtt_max, median, dev.evicted, dev.unmatched)

    def result(self, kept: dict[str | None, list[F.Finding]]) -> F.Result:
        """The whole check so far, with the findings `kept` (per device; None: belonging to none)."""
        reports = []
        for name in sorted(self.devices):
            dev = self.devices[name]
            reports.append(F.DeviceReport(
                device=name, counts={k: (v[0], v[1]) for k, v in dev.counts.items()},
                boots=self.summaries(dev), findings=tuple(kept.get(name, ())),
                tally={k: (v[0], v[1]) for k, v in dev.tally.items()}, commands=self.command_summary(dev),
                snapshots_checked=dev.snapshots_checked, snapshots=dev.snapshots, online=dev.online))
        return F.Result(lines=self.lines, devices=tuple(reports), findings=tuple(kept.get(None, ())), torn=self.torn,
                        reorder_timeout=self.reorder_timeout, command_timeout=self.command_timeout,
                        max_devices=self.max_devices, untracked_devices=len(self.untracked_ids),
                        untracked_messages=self.untracked_messages)


class Keeper:
    """Keeps the first `limit` findings of each device (and of none) for a report; counts are kept by
    the checker, so nothing is lost from the totals when findings are left out."""

    def __init__(self, limit: int = 1000) -> None:
        self.limit = limit
        self.kept: dict[str | None, list[F.Finding]] = {}

    def __call__(self, finding: F.Finding) -> None:
        found = self.kept.setdefault(finding.device, [])
        if len(found) < self.limit:
            found.append(finding)


def check(items: Iterable[Record | BadLine], model: Any | ModuleType = default_model, *,
          reorder_timeout: float = REORDER_TIMEOUT, command_timeout: float = COMMAND_TIMEOUT,
          keep: int = 1000, limits: Limits = Limits(), max_devices: int = MAX_DEVICES) -> F.Result:
    """Check a whole recording: item N is line N (as `monitor.recording.read()` returns them). A recording
    file from `monitor.recording.iter_items()`, untouched, is read line by line (`Checker.feed_lines()`)."""
    keeper = Keeper(keep)
    checker = Checker(model, reorder_timeout=reorder_timeout, command_timeout=command_timeout,
                      on_finding=keeper, limits=limits, max_devices=max_devices, view=False)
    if isinstance(items, Items) and items.fresh:  # a recording file: its lines go in undecoded
        checker.feed_lines(items.lines())
    else:
        for line, item in enumerate(items, start=1):
            checker.feed(item, line)
    checker.finish()
    return checker.result(keeper.kept)
