"""Matching commands to acks: every command seen on `pico/<id>/cmd` (from `send`, `watch` or anyone) is
matched to the node's ack by `id` (an ack with `"id": null` to the oldest command the node cannot read),
and the round trip is timed. The model judges what an ack says (`Message.command` tells it which command it
answers); this part only pairs them, and says what goes unpaired:

- a command with no ack within `command_timeout` is `unacked` (saying so when messages from the device were
  lost meanwhile: the ack may be among them); one still waiting when the stream ends is counted, not reported;
- an ack for a command never seen is `inconsistent`, once the monitor has listened longer than the command
  timeout (before that, the command may predate it); an ack may overtake its command by `reorder_timeout`;
- past `Limits.commands` waiting commands the oldest is no longer tracked: an `untracked` note says how many,
  from when to when, and an ack that may be theirs is counted, never called inconsistent.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from monitor import findings as F
from monitor.checker.clock import Clock, clock_span
from monitor.checker.devices import NO_QUEUE, NONE, Device, Limits, Sent, finding, ref, wall
from monitor.message import Message

EXPIRED_KEPT = 64
"""Ids of commands called unacked remembered per device (a late ack for one is counted, not an orphan)."""
RTTS_BY_ID = 64
"""Round trips remembered by command id (for the findings about that command)."""


class Acks:
    __slots__ = ("model", "limits", "command_timeout", "reorder_timeout", "_clock", "_emit")

    def __init__(self, model: Any, limits: Limits, command_timeout: float, reorder_timeout: float, clock: Clock,
                 emit: Callable[[F.Finding], None]) -> None:
        self.model = model
        self.limits = limits
        self.command_timeout = command_timeout
        self.reorder_timeout = reorder_timeout
        self._clock = clock
        self._emit = emit

    def command(self, dev: Device, m: Message, payload: bytes) -> None:
        """A command published to `dev` (a live one: the node ignores a retained one, and so do we)."""
        command = self.model.parse_command(payload)
        sent = Sent(command, m.t, m, dev.lost)
        dev.sent += 1
        cid = command.id
        for i, (ack, _) in enumerate(dev.orphans):  # its ack overtook it
            if ack.body.get("id") == cid:
                del dev.orphans[i]
                self._matched(dev, sent, ack)
                return
        if cid is None:
            if dev.unreadable is NO_QUEUE:
                dev.unreadable = deque()
            dev.unreadable.append(sent)
            if len(dev.unreadable) > self.limits.commands:
                self._forget(dev, dev.unreadable.popleft())
        else:
            if dev.commands is NONE:
                dev.commands = {}
            elif cid in dev.commands:
                del dev.commands[cid]  # the id used again: the newer command is the one acked next
            dev.commands[cid] = sent
            if len(dev.commands) > self.limits.commands:
                self._forget(dev, dev.commands.pop(next(iter(dev.commands))))
        self._clock.schedule(dev, m.t + self.command_timeout)

    def _forget(self, dev: Device, sent: Sent) -> None:
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

    def _untracked(self, dev: Device) -> None:
        """Say which commands are no longer tracked (a run of them, ended)."""
        n, first, last = dev.untracked  # type: ignore[misc]
        dev.untracked = None
        span = clock_span(wall(first.message), wall(last.message))
        self._emit(finding(F.UNTRACKED, f"{n} command(s) sent {span} are not checked: more than "
                                        f"{self.limits.commands} waited for an ack at once, so the oldest were no "
                                        "longer tracked (neither called unacked, nor their acks matched)",
                           dev, dev.current, ref(first.message), ref(last.message) if last is not first else None,
                           error=False, count=n, info={"what": "commands", "limit": self.limits.commands,
                                                       "from": wall(first.message), "to": wall(last.message)}))

    def match(self, dev: Device, m: Message) -> Message:
        """A live ack: `m` with the command it answers attached (`m` itself when none is known yet)."""
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
                if dev.orphans is NO_QUEUE:
                    dev.orphans = deque()
                dev.orphans.append((m, m.t))
                if len(dev.orphans) > self.limits.commands:
                    self._orphan(dev, dev.orphans.popleft()[0])
                self._clock.schedule(dev, m.t + self.reorder_timeout)
            return m
        return self._matched(dev, sent, m)

    def _matched(self, dev: Device, sent: Sent, ack: Message) -> Message:
        rtt = round((ack.t - sent.t) * 1000.0, 3)
        body = ack.body
        if body.get("ok") is True:
            dev.acked_ok += 1
        else:
            dev.rejected += 1
        if dev.rtts is NO_QUEUE:
            dev.rtts = deque()
        dev.rtts.append(rtt)
        if len(dev.rtts) > self.limits.rtts:
            dev.rtts.popleft()
        if dev.rtt_max is None or rtt > dev.rtt_max:
            dev.rtt_max = rtt
        key = sent.command.id if sent.command.id is not None else "null"
        if dev.rtt_of is NONE:
            dev.rtt_of = {}
        dev.rtt_of[key] = rtt
        if len(dev.rtt_of) > RTTS_BY_ID:
            del dev.rtt_of[next(iter(dev.rtt_of))]
        return Message(ack.device, ack.kind, ack.t, ack.retained, body, ack.boot, ack.sess, ack.seq, ack.ver, ack.line,
                       sent.command, ack.wall)  # `replace(ack, command=...)`, built directly (every ack)

    def _unacked(self, dev: Device, sent: Sent) -> None:
        dev.unacked += 1
        cid = sent.command.id
        offline = " (the device is offline)" if dev.online is False else ""
        if dev.lost > sent.lost_before:
            offline += f" ({dev.lost - sent.lost_before} message(s) from the device were lost meanwhile: " \
                       "the ack may be among them)"
        self._emit(finding(F.UNACKED, f"command {cid!r} got no ack within {self.command_timeout:g} s{offline}",
                           dev, dev.current, ref(sent.message), info={"command": cid, "rtt_ms": None,
                                                                      "timeout_s": self.command_timeout}))

    def _orphan(self, dev: Device, ack: Message) -> None:
        started = self._clock.started
        if started is not None and ack.t - started <= self.command_timeout:
            return  # the command may have gone out before the monitor started listening
        if ack.t <= dev.forgot_until:
            dev.unmatched += 1  # it may answer a command no longer tracked (said by an `untracked` note)
            return
        cid = ack.body.get("id")
        self._emit(finding(F.INCONSISTENT, f"ack seq {ack.seq} answers command {cid!r}, which never appeared on "
                                           f"pico/{dev.name}/cmd", dev, dev.tracks.get(ack.boot),  # type: ignore[arg-type]
                           ref(ack), seqs=(ack.seq,), info={"command": cid},
                           expected={"command": "seen before its ack"}, seen={"ack": {"id": cid}}))

    def expire(self, dev: Device, now: float) -> float | None:
        """Judge what is due by `now`: commands unacked, a run of untracked ones, acks left orphans. Returns
        when the next is due (None: nothing waits)."""
        nxt: list[float] = []
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
                    if dev.expired is NO_QUEUE:
                        dev.expired = deque(maxlen=EXPIRED_KEPT)
                    dev.expired.append(cid)
                else:
                    table.popleft()
                self._unacked(dev, sent)
        if dev.untracked is not None and (len(dev.commands) < self.limits.commands
                                          and len(dev.unreadable) < self.limits.commands
                                          or now >= dev.untracked[1].t + limit):
            self._untracked(dev)
        while dev.orphans:
            ack, t = dev.orphans[0]
            if t + self.reorder_timeout > now:
                nxt.append(t + self.reorder_timeout)
                break
            dev.orphans.popleft()
            self._orphan(dev, ack)
        return min(nxt) if nxt else None

    def finish(self, dev: Device) -> None:
        """The stream ended: acks still orphans are judged, a run of untracked commands is said; commands
        still waiting are counted (`summary()`), not reported."""
        while dev.orphans:
            self._orphan(dev, dev.orphans.popleft()[0])
        if dev.untracked is not None:
            self._untracked(dev)


def summary(dev: Device) -> F.CommandSummary:
    """The commands of `dev` so far: seen, acked, rejected, unacked, waiting, round trips."""
    rtts = sorted(dev.rtts)
    median = rtts[len(rtts) // 2] if rtts else None
    waiting = len(dev.commands) + len(dev.unreadable)
    return F.CommandSummary(dev.sent, dev.acked_ok, dev.rejected, dev.unacked, waiting, dev.late_acks,
                            dev.rtt_max, median, dev.evicted, dev.unmatched)
