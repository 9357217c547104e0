"""The checker's output as plain values: `Finding`s (each with its witness: the messages involved and,
for `inconsistent`, the model's expected state next to what was seen) and the per-device and per-run
summaries reports are made from. Reports and the live view only read these.

The vocabulary (docs/monitor.md, "Findings"):

| kind | fails the check? |
|---|---|
| `lost` | yes: a `seq` never arrived within the reorder timeout |
| `duplicate` | yes, unless it is a resend after a reconnect (`resend`), which QoS 1 allows |
| `reordered` | only when it came after its gap was called lost (`late`); within the timeout it is recovered |
| `reboot`, `reconnect` | no: the node restarted / opened a new MQTT session |
| `dropped_on_device` | yes: the node's own counters say it dropped messages or commands |
| `inconsistent` | yes: a message contradicts the model |
| `unacked` | yes: a command got no ack within the command timeout |
| `silent` | yes: an online node that promised a heartbeat (`hb` in its status) said nothing for too long |
| `malformed` | yes: not a message of the contract (or not a recording line) |
| `unseen` | no: messages missing while the monitor itself was away from the broker (its recording says so) |
| `clock_step` | no: the wall clock stepped (the timers run on the monotonic clock: nothing is blamed on it) |
| `untracked` | no: a limit of the monitor was reached; says what is no longer checked (commands, devices) |
| `broker_dropped` | no: the broker says it dropped messages (Mosquitto's `$SYS` counter rose) |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

LOST = "lost"
DUPLICATE = "duplicate"
REORDERED = "reordered"
REBOOT = "reboot"
RECONNECT = "reconnect"
DROPPED_ON_DEVICE = "dropped_on_device"
INCONSISTENT = "inconsistent"
UNACKED = "unacked"
MALFORMED = "malformed"
UNSEEN = "unseen"
CLOCK_STEP = "clock_step"
UNTRACKED = "untracked"
BROKER_DROPPED = "broker_dropped"
SILENT = "silent"

KINDS = (LOST, DUPLICATE, REORDERED, REBOOT, RECONNECT, DROPPED_ON_DEVICE, INCONSISTENT, UNACKED, SILENT,
         MALFORMED, UNSEEN, CLOCK_STEP, UNTRACKED, BROKER_DROPPED)
NOTES = (REBOOT, RECONNECT, UNSEEN, CLOCK_STEP, UNTRACKED, BROKER_DROPPED)
"""Kinds that are never errors (information about the device's life, and about the monitor's own)."""

SEQS_LISTED = 1000
"""A `lost` finding lists at most this many missing numbers; `count` says how many there are."""


@dataclass(frozen=True, slots=True)
class Ref:
    """One observed message a finding involves: its line in the recording (0 live, when unknown), its
    arrival time, kind (`topic`), envelope and whether it was a retained replay."""

    line: int
    t: float | None = None
    topic: str | None = None
    seq: int | None = None
    ver: int | None = None
    retained: bool = False
    sess: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "t": self.t, "topic": self.topic, "seq": self.seq, "ver": self.ver,
                "sess": self.sess, "retained": self.retained}


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the checker found, with its evidence.

    `seqs` are the sequence numbers concerned (for `lost`: the missing ones, at most `SEQS_LISTED`;
    `count` says how many). `messages` are the observed messages involved. `expected`/`seen` are the
    witness of an `inconsistent` (the model's values next to the message's) or a counter rise.
    `info` holds kind-specific facts: `rtt_ms` and `command` for command findings, `late`, `resend`,
    `waited_s`, `counter`. `error` says whether it fails the check.
    """

    kind: str
    detail: str
    device: str | None = None
    boot: str | None = None
    seqs: tuple[int, ...] = ()
    count: int = 1
    messages: tuple[Ref, ...] = ()
    expected: Mapping[str, Any] | None = None
    seen: Mapping[str, Any] | None = None
    info: Mapping[str, Any] = field(default_factory=dict)
    error: bool = True

    @property
    def is_error(self) -> bool:
        return self.error

    @property
    def line(self) -> int:
        """The latest recording line involved: when the finding became certain (0 when none)."""
        return max((ref.line for ref in self.messages), default=0)

    @property
    def t(self) -> float | None:
        return max((ref.t for ref in self.messages if ref.t is not None), default=None)

    def to_json(self) -> dict[str, Any]:
        obj: dict[str, Any] = {"kind": self.kind, "error": self.error, "detail": self.detail,
                               "device": self.device, "boot": self.boot, "seqs": list(self.seqs),
                               "count": self.count, "messages": [r.to_json() for r in self.messages]}
        if self.expected is not None:
            obj["expected"] = self.expected
        if self.seen is not None:
            obj["seen"] = self.seen
        if self.info:
            obj["info"] = dict(self.info)
        return obj


@dataclass(frozen=True)
class BootSummary:
    """One boot of a device: where it first appears, messages seen, the live `seq` range, sessions."""

    boot: str
    first_line: int
    live: int
    retained: int
    seq_first: int | None
    seq_last: int | None
    sess_first: int | None = None
    sess_last: int | None = None


@dataclass(frozen=True)
class CommandSummary:
    """Commands seen on a device's `cmd` topic and what became of them."""

    sent: int = 0
    acked_ok: int = 0
    rejected: int = 0
    unacked: int = 0
    waiting: int = 0
    late_acks: int = 0
    rtt_ms_max: float | None = None
    rtt_ms_median: float | None = None
    untracked: int = 0
    """Commands the monitor stopped tracking (more waited at once than `Limits.commands`): not checked."""
    unmatched_acks: int = 0
    """Acks for no command tracked, while some were untracked: perhaps theirs, so not called inconsistent."""


@dataclass(frozen=True)
class DeviceReport:
    """Everything found for one device: message counts per kind (`(live, retained)`), boots, commands,
    finding counts per kind (all of them) and the findings kept (the first ones, when there are many)."""

    device: str
    counts: Mapping[str, tuple[int, int]]
    boots: tuple[BootSummary, ...]
    findings: tuple[Finding, ...]
    tally: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    """kind -> (findings, of which errors)"""
    commands: CommandSummary = CommandSummary()
    snapshots_checked: int = 0
    snapshots: int = 0
    online: bool | None = None

    @property
    def ok(self) -> bool:
        return not any(errors for _, errors in self.tally.values())

    @property
    def findings_left_out(self) -> int:
        return sum(n for n, _ in self.tally.values()) - len(self.findings)


@dataclass(frozen=True)
class Result:
    """A whole check: per-device reports plus findings that belong to no device (bad lines)."""

    lines: int
    devices: tuple[DeviceReport, ...]
    findings: tuple[Finding, ...] = ()
    torn: bool = False
    """The last line was cut short (a recorder killed mid-write): ignored, and said so."""
    reorder_timeout: float = 0.0
    command_timeout: float = 0.0
    max_devices: int = 0
    untracked_devices: int = 0
    """Device ids seen beyond `max_devices` (counted up to a bound: see the checker): not checked."""
    untracked_messages: int = 0
    """Their messages (counted, not checked)."""

    def all_findings(self) -> list[Finding]:
        return [*self.findings, *(f for d in self.devices for f in d.findings)]

    def tally(self) -> dict[str, int]:
        """How many findings of each kind, over everything (kinds with none left out)."""
        counts: dict[str, int] = {}
        for f in self.findings:
            counts[f.kind] = counts.get(f.kind, 0) + 1
        for dev in self.devices:
            for kind, (n, _) in dev.tally.items():
                counts[kind] = counts.get(kind, 0) + n
        return {kind: counts[kind] for kind in KINDS if kind in counts}

    def errors(self) -> int:
        return sum(1 for f in self.findings if f.error) + sum(e for d in self.devices for _, e in d.tally.values())

    @property
    def ok(self) -> bool:
        return self.errors() == 0
