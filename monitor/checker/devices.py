"""What the checker keeps, per device (`Device`) and per boot of a device (`Track`), bounded by `Limits`,
and the table of devices (`DeviceTable`: past `max_devices`, new ids are counted, not checked), which
tallies the findings.

Plain state, no rules: the ordering, the command matching, the timers and the live view each read and
write their own fields (grouped below by who owns them). A device seen once costs little: its tables for
commands, acks and old boots start as one shared empty table, and get their own when first written to.
Also the small helpers every part uses to make a finding (`finding()`, `ref()`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from monitor import findings as F
from monitor.message import Malformed, Message, split_topic
from monitor.record import Record

INF = float("inf")
MAX_DEVICES = 10_000
"""Devices tracked at most, by default (`--max-devices`): about 2 to 4 KiB each once seen (docs/benchmarks.md)."""
UNTRACKED_IDS = 10_000
"""Distinct untracked device ids counted at most (beyond, "more than")."""
RING = 8
"""Recently delivered seqs remembered per boot, to show a duplicate's first copy."""


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


class _Empty(dict):  # type: ignore[type-arg]
    """The shared empty table a device starts with (read-only: writing to it is a bug)."""

    def __setitem__(self, key: Any, value: Any) -> None:
        raise TypeError("a device's shared empty table: make its own first")


class _EmptyQueue(deque):  # type: ignore[type-arg]
    def append(self, item: Any) -> None:
        raise TypeError("a device's shared empty queue: make its own first")


NONE: dict[Any, Any] = _Empty()
NO_QUEUE: deque[Any] = _EmptyQueue()


@dataclass(slots=True)
class Sent:
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
        self.pending: dict[int, Message] = NONE   # arrived, waiting behind a gap (or the hold; its own once used)
        self.gap_t = 0.0                          # when the gap at `next` became visible
        self.top = 0                              # highest live seq seen
        self.lost: list[list[int]] = []           # recently lost [lo, hi] ranges (oldest first)
        self.floor = 0                            # below this, too old to tell late from duplicate
        self.state = state
        self.baseline_seq: int | None = None      # retained snapshot the model started from
        self.last: Message | None = None          # last delivered
        self.last_snap: Message | None = None     # last snapshot delivered (or the retained baseline)
        self.will_sess: int | None = None         # session whose Last Will arrived
        self.ring: list[tuple[Any, ...] | None] = [None] * RING  # (seq, line, t, kind, ver, sess)

    def summary(self) -> F.BootSummary:
        return F.BootSummary(self.boot, self.first_line, self.live, self.retained, self.seq_first, self.seq_last,
                             self.sess_first, self.sess_max)


class Device:
    """What the checker keeps for one device (bounded by `Limits`), and what the live view shows."""

    __slots__ = ("name", "tracks", "current", "old_boots", "counts", "tally", "commands", "unreadable", "expired",
                 "orphans", "rtts", "rtt_of", "sent", "acked_ok", "rejected", "unacked", "late_acks", "evicted",
                 "rtt_max", "snapshots", "snapshots_checked", "stale_wills", "lost", "scheduled", "online",
                 "last_seen", "malformed", "view", "fw", "untracked", "forgot_until", "unmatched", "heard_t", "late",
                 "heard", "promise")

    def __init__(self, name: str) -> None:
        self.name = name
        self.counts: dict[str, list[int]] = {}   # kind -> [live, retained] messages
        self.tally: dict[str, list[int]] = {}    # kind -> [findings, errors]
        # the ordering (`ordering`, `boots`, `delivery`)
        self.tracks: dict[str, Track] = {}        # oldest boot first
        self.current: Track | None = None
        self.old_boots: deque[F.BootSummary] | None = None
        self.snapshots = self.snapshots_checked = 0
        self.stale_wills = 0
        self.lost = 0                             # messages called lost (or unseen), over all boots
        # the commands (`acks`; each table: a shared empty one until the first entry)
        self.commands: dict[str, Sent] = NONE
        self.unreadable: deque[Sent] = NO_QUEUE
        self.expired: deque[str] = NO_QUEUE
        self.orphans: deque[tuple[Message, float]] = NO_QUEUE
        self.rtts: deque[float] = NO_QUEUE
        self.rtt_of: dict[str, float] = NONE
        self.sent = self.acked_ok = self.rejected = self.unacked = self.late_acks = self.evicted = 0
        self.rtt_max: float | None = None
        self.untracked: list[Any] | None = None   # commands no longer tracked, not yet said: [n, first, last]
        self.forgot_until = -INF                  # until then an ack for no tracked command may be theirs
        self.unmatched = 0                        # such acks
        # the timers (`clock`)
        self.scheduled: float | None = None
        # the heartbeat promise (`silence`; `Checker._accept()` compares `heard_t` and `late` for every message)
        self.heard_t = 0.0                        # checker's time of the last live message heard from the node
        self.heard: Message | None = None         # that message (the silence's witness)
        self.late = INF                           # a silence longer than this is `silent` (INF: no promise)
        self.promise: tuple[str, int] | None = None  # (boot, sess) of the status that promised the heartbeat
        # the live view (`shown`)
        self.online: bool | None = None
        self.last_seen: float | None = None       # wall clock
        self.malformed = 0                        # malformed messages (not in `counts`)
        self.view: dict[str, Any] = NONE
        self.fw: str | None = None

    @property
    def messages(self) -> int:
        """Messages received from the device: the valid ones of every kind, and the malformed ones."""
        return sum(live + retained for live, retained in self.counts.values()) + self.malformed

    def finding_counts(self) -> dict[str, int]:
        return {kind: n for kind, (n, _) in self.tally.items()}

    def summaries(self) -> tuple[F.BootSummary, ...]:
        """Every boot seen (the retired ones summarised), oldest first."""
        return (*(self.old_boots or ()), *(t.summary() for t in self.tracks.values()))


class DeviceTable:
    """The devices checked: name -> `Device` (`devices`, a plain dict: it is looked up for every message), at
    most `max_devices` of them; beyond, new ids are counted (`untracked_*`), the first one in an `untracked`
    note. It tallies every finding (`emit()`: per device, or `loose_tally` for those of none) before handing it
    to `on_finding`."""

    def __init__(self, max_devices: int, on_finding: Callable[[F.Finding], None] | None) -> None:
        self.devices: dict[str, Device] = {}
        self.max_devices = max_devices
        self.on_finding = on_finding
        self.loose_tally: dict[str, list[int]] = {}  # kind -> [findings, errors], of findings about no device
        self.untracked_ids: set[str] = set()
        self.untracked_more = False               # more than UNTRACKED_IDS of them
        self.untracked_messages = 0

    def emit(self, finding: F.Finding) -> None:
        """A finding: tallied, then handed on."""
        dev = self.devices.get(finding.device) if finding.device is not None else None
        tally = dev.tally if dev is not None else self.loose_tally
        counts = tally.get(finding.kind)
        if counts is None:
            counts = tally[finding.kind] = [0, 0]
        counts[0] += 1
        counts[1] += finding.error
        if self.on_finding is not None:
            self.on_finding(finding)

    def new(self, name: str, wall: float, line: int) -> Device | None:
        """A device seen for the first time: tracked from now on, or None beyond `max_devices`."""
        if len(self.devices) < self.max_devices:
            dev = self.devices[name] = Device(name)
            return dev
        self.untracked_messages += 1
        ids = self.untracked_ids
        if name not in ids:
            if len(ids) < UNTRACKED_IDS:
                ids.add(name)
                if len(ids) == 1:
                    self.emit(F.Finding(F.UNTRACKED, f"more than {self.max_devices} devices: {name!r} and every "
                                                     "device first seen after it are not checked (their messages "
                                                     "are counted; see --max-devices)", messages=(F.Ref(line, wall),),
                                        error=False, info={"what": "devices", "limit": self.max_devices,
                                                           "first": name}))
            else:
                self.untracked_more = True
        return None

    def malformed(self, record: Record, line: int, exc: Malformed) -> None:
        """A record that is no message of the contract: a `malformed` finding, the device's if it names one."""
        try:
            _, kind = split_topic(record.topic)
        except Malformed:
            kind = record.topic
        witness = F.Ref(line=line, t=record.t, topic=kind, retained=record.retain)
        where = f"line {line}: " if line else ""
        if exc.device is not None:
            dev = self.devices.get(exc.device)
            if dev is None:
                dev = self.new(exc.device, record.t, line)
                if dev is None:
                    return
            dev.malformed += 1
            dev.last_seen = record.t
            self.emit(F.Finding(F.MALFORMED, f"{where}{kind}: {exc.reason}", exc.device, messages=(witness,)))
        else:
            self.emit(F.Finding(F.MALFORMED, f"{where}{exc.reason}", messages=(witness,)))


def ref(m: Message | None) -> F.Ref | None:
    """The witness `Ref` of a message (None for none)."""
    if m is None:
        return None
    return F.Ref(line=m.line, t=m.t if m.wall is None else m.wall, topic=m.kind, seq=m.seq, ver=m.ver,
                 retained=m.retained, sess=m.sess)


def wall(m: Message) -> float:
    """When `m` arrived by the wall clock (what evidence shows)."""
    return m.t if m.wall is None else m.wall


def finding(kind: str, detail: str, dev: Device, track: Track | None, *refs: F.Ref | None, error: bool = True,
            **extra: Any) -> F.Finding:
    """A finding about `dev` (and its boot `track`, if any), with the messages `refs` as its witness."""
    return F.Finding(kind, detail, dev.name, track.boot if track is not None else None,
                     messages=tuple(r for r in refs if r is not None), error=error, **extra)
