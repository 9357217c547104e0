"""The streaming checker, composed: fed what was received, in arrival order, it hands each line to the part
whose concern it is, and keeps the tally of findings. One core for live and offline checking: `record`/`watch`
feed it as messages arrive and tick it with the receiver's monotonic clock (`advance_monotonic()`); `check`
replays a recording (`check()`), the arrival times driving the clock.

The parts (each a module of this package): `clock` (the checker's time and the timers), `ordering` and
`boots` (the envelope: `seq` order per device and boot, sessions, Last Wills, retained replays), `delivery`
(the model reads each boot's messages in order), `acks` (commands matched to acks), `absences` (the monitor's
own, and the broker's word), `silence` (a node that promised a heartbeat and went quiet), `shown` (what the
live view shows), `devices` (what is kept, bounded).

Findings are emitted (to `on_finding`) as soon as they are certain; `finish()` ends a stream (gaps still open
are lost, as far as the recording goes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

from monitor import findings as F
from monitor import model as default_model
from monitor.checker.absences import BROKER_DROPPED_TOPIC, Absences
from monitor.checker.acks import Acks, summary as command_summary
from monitor.checker.clock import Clock
from monitor.checker.delivery import Delivery
from monitor.checker.devices import MAX_DEVICES, Device, DeviceTable, Limits, wall
from monitor.checker.ordering import Ordering
from monitor.checker.shown import Shown
from monitor.checker.silence import Silence
from monitor.message import Malformed, Message, parse, parse_payload
from monitor.record import Record
from monitor.recording import BadLine, Items, Mark as RecorderMark, decode_item, text_fields

CLEARED_KINDS = ("/status", "/state")
"""An empty payload on these is the broker forwarding the clearing of a retained message, not a message of
the node (a node never publishes one): ignored, not malformed."""

REORDER_TIMEOUT = 2.0
COMMAND_TIMEOUT = 10.0


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
        self.lines = 0
        self.torn = False
        self.table = DeviceTable(max_devices, on_finding)
        self.devices: dict[str, Device] = self.table.devices
        self.loose_tally = self.table.loose_tally
        emit = self._emit = self.table.emit
        self.clock = Clock(self.devices, emit)
        self.absences = Absences(emit)
        self.shown = Shown(view)
        self.silence = Silence(self.absences, emit)
        self.delivery = Delivery(model, view, emit)
        self.acks = Acks(model, limits, command_timeout, reorder_timeout, self.clock, emit)
        self.ordering = Ordering(model.init(), limits, reorder_timeout, self.delivery, self.acks, self.shown,
                                 self.absences, self.clock, emit)
        # What `_accept()` calls for every message, bound once.
        self._deliver = self.delivery.deliver
        self._match_ack = self.acks.match
        self._command = self.acks.command
        self._live = self.ordering.live
        self._will = self.ordering.boots.will
        self._retained = self.ordering.boots.retained
        self._show = self.shown.show

    @property
    def max_devices(self) -> int:
        return self.table.max_devices

    # --- time ----------------------------------------------------------------------------------------

    def advance_monotonic(self, mono: float) -> None:
        """`advance()` to the monotonic time `mono` (the receiver's word: every message that arrived before it
        is in the recording)."""
        now = self.clock.from_monotonic(mono)
        if now is not None:
            self.advance(now)

    def advance(self, now: float) -> None:
        """Time is now `now` (the checker's clock: see `Clock.when()`): hold-backs, gaps and commands whose time
        is up are judged."""
        self.clock.advance(now, self._expire)

    def _expire(self, dev: Device, now: float) -> None:
        """`dev`'s timer is due: its gaps and holds, then its commands, are judged; the next is scheduled."""
        due = self.ordering.expire(dev, now)
        due_acks = self.acks.expire(dev, now)
        if due_acks is not None and (due is None or due_acks < due):
            due = due_acks
        self.clock.schedule(dev, due)

    def _tick(self, t: float) -> None:
        """A line arrived at `t`: the clock moves on (judging what is due by then)."""
        clock = self.clock
        if clock.started is None:
            clock.started = t
        if t >= clock.next_timer:
            self.advance(t)
        elif clock.now is None or t > clock.now:
            clock.now = t

    # --- input ---------------------------------------------------------------------------------------

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
        clock = self.clock
        last = clock.e, clock.wall                 # (the line before this one)
        e = clock.when(item.t, item.mono, line)
        if type(item) is RecorderMark:
            self._tick(e)
            self.absences.recorder(item, e, last)
            return
        try:
            m = parse(item, line, e)
        except Malformed as exc:
            self._tick(e)
            if item.topic == BROKER_DROPPED_TOPIC:
                self.absences.dropped_count(item, line)
                return
            if not item.payload and item.topic.endswith(CLEARED_KINDS) and exc.device is not None:
                return  # an empty message clears a retained one (`forget`, a fleet ending): no node sent it
            self.table.malformed(item, line, exc)
            return
        self._accept(m, item.payload)

    def feed_lines(self, lines: Iterable[tuple[int, bytes]]) -> None:
        """Lines of a recording, undecoded, as `(number, line)` in increasing order: each as if it were
        `feed(recording.decode_item(number, line), number)`, but with no `Record` in between for the usual
        line (a valid record whose text payload is a valid message). `lines` is brought up to date at the end."""
        line = 0
        clock = self.clock
        when, accept, fields_of, message = clock.when, self._accept, text_fields, parse_payload  # (locals: per line)
        try:
            for line, raw in lines:
                fields = fields_of(raw)
                if fields is not None:
                    t, topic, retain, text, mono = fields
                    if mono is None and t >= clock.wall and clock.mono is None:
                        e = clock.e = t + clock.woff  # `when()`, in short: no monotonic time, no step back
                        clock.wall = t
                    else:
                        e = when(t, mono, line)
                    try:
                        m = message(topic, e, retain, text, line, t)
                    except Malformed:
                        pass  # `feed()` reports it (its `when()` of the same line again changes nothing)
                    else:
                        accept(m, text)
                        continue
                self.feed(decode_item(line, raw), line)
        finally:
            if line > self.lines:
                self.lines = line

    def _accept(self, m: Message, payload: bytes | str) -> None:
        """A valid message (`payload`: its bytes, or the text they decode to): the clock moves to its arrival,
        then the message goes where its kind says (a live one that is simply the next in line is seen to here,
        in short; `Ordering.live()` takes the others)."""
        t = m.t
        clock = self.clock
        if clock.started is None:  # `_tick(t)`, inlined: this runs for every message
            clock.started = t
        if t >= clock.next_timer:
            self.advance(t)
        elif clock.now is None or t > clock.now:
            clock.now = t
        try:
            dev = self.devices[m.device]
        except KeyError:
            dev = self.table.new(m.device, wall(m), m.line)
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
            self.silence.will(dev, m)
            return
        if retained:
            self._retained(dev, m)
            return
        if t - dev.heard_t > dev.late:  # (INF without a heartbeat promised: the one cost for every message)
            self.silence.heard(dev, m)
        dev.heard_t = t
        dev.heard = m
        track = dev.current
        if track is None or seq != track.next or track.boot != m.boot or track.pending \
                or m.sess != track.sess_max:
            self._live(dev, m)
            if kind == "status" and dev.current is not None and m.boot == dev.current.boot \
                    and m.sess == dev.current.sess_max:
                self.silence.status(dev, m)
            return
        # The common case, in short (what `Ordering.live()` would do with it): the next in line of the current
        # boot, in the same session, nothing waiting (so every live seq seen so far is below it: it is the new
        # `seq_last`, and `seq_first` stands).
        track.live += 1
        track.seq_last = track.top = seq
        track.next = seq + 1
        if kind == "ack":
            m = self._match_ack(dev, m)
        self._deliver(dev, track, m)
        if kind == "status":
            self._show(dev, track, m)
            self.silence.status(dev, m)
        else:  # `Shown.show()`, for any other live message of the current boot
            if kind == "state" and self.view:
                dev.view = m.body
            dev.online = True

    # --- the end -------------------------------------------------------------------------------------

    def finish(self) -> None:
        """The stream ended: open holds and gaps are judged now (lost, as far as it goes), and a silence still
        going on."""
        now = self.clock.now
        for dev in self.devices.values():
            self.ordering.finish(dev)
            self.acks.finish(dev)
            self.silence.finish(dev, now)

    def result(self, kept: dict[str | None, list[F.Finding]]) -> F.Result:
        """The whole check so far, with the findings `kept` (per device; None: belonging to none)."""
        reports = []
        for name in sorted(self.devices):
            dev = self.devices[name]
            reports.append(F.DeviceReport(
                device=name, counts={k: (v[0], v[1]) for k, v in dev.counts.items()},
                boots=dev.summaries(), findings=tuple(kept.get(name, ())),
                tally={k: (v[0], v[1]) for k, v in dev.tally.items()}, commands=command_summary(dev),
                snapshots_checked=dev.snapshots_checked, snapshots=dev.snapshots, online=dev.online))
        table = self.table
        return F.Result(lines=self.lines, devices=tuple(reports), findings=tuple(kept.get(None, ())), torn=self.torn,
                        reorder_timeout=self.reorder_timeout, command_timeout=self.command_timeout,
                        max_devices=table.max_devices, untracked_devices=len(table.untracked_ids),
                        untracked_messages=table.untracked_messages)


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
