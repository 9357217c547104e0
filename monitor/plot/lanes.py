"""A recording and its findings as the timeline's data: per device, one plain list per lane. Pure: it is
fed `(line, item)` pairs and the checker's findings, reads no file and draws nothing (`monitor.plot.svg`
does).

The lanes (docs/monitor.md, "`plot`"):
- `steps`: the step in `seq` from the device's previous live message of the same boot, in arrival order:
  1 is normal, more is a gap, 0 a duplicate, less a reorder. Runs of normal steps are kept as `Run`s (a
  node publishing for an hour is a few runs, not thousands of points); every other step is a `Step`.
- `findings`: one `Mark` per finding, at its time (its latest message's arrival), with its witness.
- `led`, `mode`: the policy and mode as `Span`s; `lit`: the LED's level at each snapshot.
- `presses`: button edges; `temps`: temperature readings; `commands`: each command with its ack.
- `boots`, `sessions`, `outages`: bands. A boot or session spans its messages; an outage runs from a status
  `online: false` (a Last Will or a clean stop) to the device's next message.
Times are arrival times (epoch seconds), as in the recording and the findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from monitor import findings as F
from monitor import report
from monitor.record import Record
from monitor.recording import Mark as RecorderMark
from monitor.text import printable


@dataclass
class Span:
    """A value held from `t0` to `t1` (`t1` grows as later messages confirm it)."""

    t0: float
    t1: float
    value: str


@dataclass(frozen=True)
class Step:
    """An abnormal step in `seq` (not 1): `step` from `prev` to `seq`, at arrival `t`, line `line`."""

    t: float
    step: int
    seq: int
    prev: int
    line: int
    topic: str


@dataclass
class Run:
    """Consecutive normal steps (+1), from the message before the first (`t0`) to the last (`t1`): `count`
    steps."""

    t0: float
    t1: float
    count: int


@dataclass(frozen=True)
class Mark:
    """One finding on the timeline: `label` is short (drawn), `witness` the whole evidence (hover text)."""

    t: float
    kind: str
    error: bool
    label: str
    witness: str
    line: int


@dataclass
class Command:
    """A command seen on `cmd` and its ack, when one came: `ok` None while unanswered."""

    t: float
    cid: str | None
    what: str
    t_ack: float | None = None
    ok: bool | None = None
    error: str = ""


@dataclass
class DeviceLanes:
    device: str
    tally: dict[str, tuple[int, int]] = field(default_factory=dict)
    """kind -> (findings, of which errors): all of them, as the check counted them"""
    steps: list[Step] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    findings: list[Mark] = field(default_factory=list)
    led: list[Span] = field(default_factory=list)
    lit: list[tuple[float, int]] = field(default_factory=list)
    mode: list[Span] = field(default_factory=list)
    presses: list[tuple[float, str, bool]] = field(default_factory=list)
    """(t, button, pressed): every debounced edge"""
    temps: list[tuple[float, float]] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    boots: list[Span] = field(default_factory=list)
    sessions: list[Span] = field(default_factory=list)
    outages: list[Span] = field(default_factory=list)
    messages: int = 0

    @property
    def errors(self) -> int:
        return sum(e for _, e in self.tally.values())


@dataclass
class Timeline:
    source: str
    t0: float | None = None
    t1: float | None = None
    devices: list[DeviceLanes] = field(default_factory=list)
    total_devices: int = 0
    """devices in the recording (drawn or not)"""
    with_findings: int = 0
    """devices with at least one error finding (drawn or not)"""
    other: list[Mark] = field(default_factory=list)
    """findings of no device (a malformed line, the monitor's own absences)"""
    away: list[Span] = field(default_factory=list)
    """the recorder was away from its broker (its own marks): nothing could be seen there"""


def witness(finding: F.Finding) -> str:
    """The finding in words, as `check` says it, then each message involved: the hover text."""
    lines = [report.finding_line(finding)]
    for ref in finding.messages:
        bits = [f"line {ref.line}" if ref.line else "", report.clock(ref.t) if ref.t is not None else "",
                ref.topic or "", f"seq {ref.seq}" if ref.seq is not None else "",
                f"ver {ref.ver}" if ref.ver is not None else "", f"sess {ref.sess}" if ref.sess is not None else "",
                "retained" if ref.retained else ""]
        lines.append("  " + " ".join(b for b in bits if b))
    return printable("\n".join(lines)).replace("\\x0a", "\n")


def mark(finding: F.Finding, t: float) -> Mark:
    return Mark(t=t, kind=finding.kind, error=finding.error, label=printable(f"{report.label(finding)}: {finding.detail}"),
                witness=witness(finding), line=finding.line)


def _extend(spans: list[Span], t: float, value: str) -> None:
    """`value` holds at `t`: the last span grows, or a new one starts when the value changed."""
    if spans and spans[-1].value == value:
        spans[-1].t1 = t
    else:
        if spans:
            spans[-1].t1 = t  # (the old value held until this message said otherwise)
        spans.append(Span(t, t, value))


def _command_text(body: dict[str, Any]) -> str:
    return " ".join(f"{k}={'yes' if v is True else v}" for k, v in body.items() if k != "id")


class _Device:
    """What one device's messages add to its lanes, as they come."""

    def __init__(self, lanes: DeviceLanes) -> None:
        self.lanes = lanes
        self.last_seq: dict[str, int] = {}
        self._last_t: dict[str, float] = {}
        self.boot: str | None = None
        self.sess: tuple[str, int] | None = None
        self.pending: dict[str, Command] = {}
        self.offline_since: float | None = None
        self._in_run = False  # the last step was a normal one, so the next normal one extends its Run

    def cmd(self, t: float, payload: bytes) -> None:
        try:
            body = orjson.loads(payload)
        except orjson.JSONDecodeError:
            body = None
        if type(body) is dict:
            cid = body.get("id") if type(body.get("id")) is str else None
            command = Command(t, cid, printable(_command_text(body)))
        else:
            command = Command(t, None, "(unreadable)")
        self.lanes.commands.append(command)
        if command.cid is not None:
            self.pending[command.cid] = command

    def message(self, line: int, t: float, kind: str, retained: bool, body: dict[str, Any]) -> None:
        lanes = self.lanes
        lanes.messages += 1
        boot, sess, seq = body.get("boot"), body.get("sess"), body.get("seq")
        if self.offline_since is not None and not (kind == "status" and body.get("online") is False):
            lanes.outages[-1].t1 = t
            self.offline_since = None
        if type(boot) is str and not retained:
            if boot != self.boot:
                self.boot = boot
                lanes.boots.append(Span(t, t, boot))
                # every boot starts from the initial state (docs/protocol.md): auto, slow
                _extend(lanes.led, t, "auto")
                _extend(lanes.mode, t, "slow")
            lanes.boots[-1].t1 = t
            if type(sess) is int:
                if self.sess != (boot, sess):
                    self.sess = (boot, sess)
                    lanes.sessions.append(Span(t, t, f"s{sess}"))
                lanes.sessions[-1].t1 = t
            if type(seq) is int:
                self._step(line, t, kind, boot, seq)
        if kind == "state":
            self._state(t, body)
        elif kind == "event":
            self._event(t, body)
        elif kind == "ack":
            cid = body.get("id")
            command = self.pending.pop(cid, None) if type(cid) is str else None
            if command is None and cid is None:  # the answer to a command too large or unreadable
                command = next((c for c in self.lanes.commands if c.cid is None and c.ok is None), None)
            if command is not None:
                command.t_ack, command.ok = t, body.get("ok") is True
                command.error = printable(str(body.get("error") or ""))
        elif kind == "status" and body.get("online") is False and not retained:
            self.offline_since = t
            lanes.outages.append(Span(t, t, "offline"))

    def _step(self, line: int, t: float, kind: str, boot: str, seq: int) -> None:
        prev, before = self.last_seq.get(boot), self._last_t.get(boot, t)
        self.last_seq[boot], self._last_t[boot] = seq, t
        if prev is None:
            self._in_run = False
            return  # a boot's first message: no step (its band starts there)
        step = seq - prev
        runs = self.lanes.runs
        if step == 1:
            if self._in_run:
                runs[-1].t1, runs[-1].count = t, runs[-1].count + 1
            else:
                runs.append(Run(before, t, 1))  # (a step joins two messages: from the one before)
            self._in_run = True
        else:
            self.lanes.steps.append(Step(t, step, seq, prev, line, kind))
            self._in_run = False

    def _state(self, t: float, body: dict[str, Any]) -> None:
        lanes = self.lanes
        if type(body.get("led")) is str:
            _extend(lanes.led, t, printable(body["led"]))
        if type(body.get("mode")) is str:
            _extend(lanes.mode, t, printable(body["mode"]))
        if body.get("lit") in (0, 1):
            lanes.lit.append((t, int(body["lit"])))
        temp = body.get("temp_c")
        if type(temp) in (int, float):
            lanes.temps.append((t, float(temp)))

    def _event(self, t: float, body: dict[str, Any]) -> None:
        kind = body.get("kind")
        if kind == "led" and type(body.get("led")) is str:
            _extend(self.lanes.led, t, printable(body["led"]))
        elif kind == "mode" and type(body.get("mode")) is str:
            _extend(self.lanes.mode, t, printable(body["mode"]))
        elif kind == "button" and body.get("button") in ("a", "b") and type(body.get("pressed")) is bool:
            self.lanes.presses.append((t, body["button"], body["pressed"]))

    def end(self, t: float) -> None:
        """The recording ended at `t`: what still holds, holds until then."""
        lanes = self.lanes
        for spans in (lanes.led, lanes.mode):
            if spans:
                spans[-1].t1 = max(spans[-1].t1, t)
        if self.offline_since is not None:
            lanes.outages[-1].t1 = t


class Builder:
    """Collects the lanes of `devices` (in that order) from a recording fed line by line."""

    def __init__(self, source: str, devices: Sequence[str], findings: Iterable[F.Finding] = (),
                 tallies: dict[str, dict[str, tuple[int, int]]] | None = None) -> None:
        self.timeline = Timeline(source)
        self._devices = {d: _Device(DeviceLanes(d, tally=dict((tallies or {}).get(d, {})))) for d in devices}
        self.timeline.devices = [dev.lanes for dev in self._devices.values()]
        self._findings = [f for f in findings if f.device is None or f.device in self._devices]
        self._need_t = {f.line for f in self._findings if f.t is None and f.line}
        self._t_of: dict[int, float] = {}
        self._away_since: float | None = None
        self._last_t: float | None = None

    def feed(self, line: int, item: object) -> None:
        """Line `line` of the recording (a `Record`, the recorder's `Mark`, or a bad line: skipped)."""
        if isinstance(item, Record):
            self.record(line, item.t, item.topic, item.retain, item.payload)
        elif isinstance(item, RecorderMark):
            self._time(line, item.t)
            if item.event == "disconnected" and self._away_since is None:
                self._away_since = item.t
            elif item.event == "reconnected" and self._away_since is not None:
                self.timeline.away.append(Span(self._away_since, item.t, "monitor away"))
                self._away_since = None
        elif line in self._need_t and self._last_t is not None:
            self._t_of[line] = self._last_t  # a bad line has no time of its own: the line before's

    def _time(self, line: int, t: float) -> None:
        tl = self.timeline
        tl.t0 = t if tl.t0 is None or t < tl.t0 else tl.t0
        tl.t1 = t if tl.t1 is None or t > tl.t1 else tl.t1
        self._last_t = t
        if line in self._need_t:
            self._t_of[line] = t

    def wanted(self, topic: str) -> bool:
        """Whether a message on `topic` goes on a drawn lane (others only stretch the time axis)."""
        parts = topic.split("/")
        return len(parts) == 3 and parts[0] == "pico" and parts[1] in self._devices

    def record(self, line: int, t: float, topic: str, retained: bool, payload: bytes | str) -> None:
        self._time(line, t)
        parts = topic.split("/")
        if len(parts) != 3 or parts[0] != "pico":
            return
        dev = self._devices.get(parts[1])
        if dev is None:
            return
        raw = payload.encode() if isinstance(payload, str) else payload
        if parts[2] == "cmd":
            dev.cmd(t, raw)
            return
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return  # malformed: the checker's finding says so on the findings lane
        if type(body) is dict:
            dev.message(line, t, parts[2], retained, body)

    def finish(self) -> Timeline:
        tl = self.timeline
        end = tl.t1 if tl.t1 is not None else 0.0
        if self._away_since is not None:
            tl.away.append(Span(self._away_since, end, "monitor away"))
        for dev in self._devices.values():
            dev.end(end)
        for finding in self._findings:
            t = finding.t if finding.t is not None else self._t_of.get(finding.line, tl.t0)
            if t is None:
                continue
            m = mark(finding, t)
            if finding.device is None:
                tl.other.append(m)
            else:
                self._devices[finding.device].lanes.findings.append(m)
        for dev in self._devices.values():
            dev.lanes.findings.sort(key=lambda m: m.t)
        return tl
