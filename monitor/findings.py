"""The checker's output, as plain values: `Finding`s (what is wrong, or worth knowing) and the
per-device and per-file summaries they sit in. Reports read only these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

LOST = "lost"
DUPLICATE = "duplicate"
OUT_OF_ORDER = "out_of_order"
INCONSISTENT = "inconsistent"
MALFORMED = "malformed"
REBOOT = "reboot"
UNKNOWN = "unknown"
TORN = "torn"

ERRORS = (LOST, DUPLICATE, OUT_OF_ORDER, INCONSISTENT, MALFORMED)
"""Kinds that make a recording fail the check."""
NOTES = (REBOOT, UNKNOWN, TORN)
"""Kinds that are information only."""
KINDS = ERRORS + NOTES


@dataclass(frozen=True)
class Ref:
    """One recorded message a finding involves: its line in the recording and what identifies it."""

    line: int
    t: float | None = None
    topic: str | None = None
    seq: int | None = None
    ver: int | None = None
    retained: bool = False


@dataclass(frozen=True)
class Finding:
    """One thing the checker found.

    `seqs` are the sequence numbers concerned (for `lost`: the missing ones, at most `SEQS_LISTED`;
    `count` says how many), `messages` the recorded messages involved, `expected`/`seen` the witness of
    an inconsistency (the model's values next to the message's).
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

    @property
    def is_error(self) -> bool:
        return self.kind in ERRORS

    @property
    def line(self) -> int:
        """The earliest recording line involved (0 when none)."""
        return min((ref.line for ref in self.messages), default=0)


SEQS_LISTED = 1000


@dataclass(frozen=True)
class BootSummary:
    """One boot of a device: where it first appears and the live `seq` range seen."""

    boot: str
    first_line: int
    live: int
    retained: int
    seq_first: int | None
    seq_last: int | None


@dataclass(frozen=True)
class DeviceReport:
    """Everything found for one device: message counts per kind (`(live, retained)`), boots, findings."""

    device: str
    counts: Mapping[str, tuple[int, int]]
    boots: tuple[BootSummary, ...]
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not any(f.is_error for f in self.findings)


@dataclass(frozen=True)
class Result:
    """The whole check: per-device reports plus findings that belong to no device (bad lines)."""

    lines: int
    devices: tuple[DeviceReport, ...]
    findings: tuple[Finding, ...] = field(default=())

    def all_findings(self) -> list[Finding]:
        return [*self.findings, *(f for d in self.devices for f in d.findings)]

    def tally(self) -> dict[str, int]:
        """How many findings of each kind (kinds with none left out)."""
        counts: dict[str, int] = {}
        for finding in self.all_findings():
            counts[finding.kind] = counts.get(finding.kind, 0) + 1
        return {kind: counts[kind] for kind in KINDS if kind in counts}

    @property
    def torn(self) -> bool:
        return any(f.kind == TORN for f in self.findings)

    @property
    def ok(self) -> bool:
        return not any(f.is_error for f in self.all_findings())
