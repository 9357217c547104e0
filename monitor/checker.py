"""The checker: orders each device's messages by `seq` and finds what is lost, duplicated, out of
order or inconsistent. Pure: it takes recorded items and returns a `Result`.

It owns the envelope rules of docs/protocol.md: per device, per `boot`, the live messages' `seq` must
run 1, 2, 3, ... in arrival order (a missing number is `lost`, a repeated one a `duplicate`, a lower one
than already seen `out_of_order`); a new `boot` is a `reboot` (information). Retained messages (replays
on subscribe) are history: counted, offered to the model, kept out of the live ordering.

It is generic over the device model: any object with `init()` and `step(state, message) -> (state,
problems)` (each problem with `kind`, `detail`, `expected`, `seen`), fed one boot's messages in `seq`
order. The default is `monitor.model`; the checker knows nothing of LEDs, modes or buttons.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import Any, Protocol

from monitor import findings as F
from monitor import model as default_model
from monitor.message import KINDS, Malformed, Message, split_topic, try_parse
from monitor.record import Record
from monitor.recording import BadLine


class Model(Protocol):
    def init(self) -> Any: ...

    def step(self, state: Any, message: Message) -> tuple[Any, Sequence[Any]]: ...


def _ref(message: Message) -> F.Ref:
    return F.Ref(line=message.line, t=message.t, topic=message.kind, seq=message.seq, ver=message.ver,
                 retained=message.retained)


def _bad_record_ref(record: Record, line: int) -> F.Ref:
    try:
        _, kind = split_topic(record.topic)
    except Malformed:
        kind = record.topic
    return F.Ref(line=line, t=record.t, topic=kind, retained=record.retain)


def _runs(seqs: Sequence[int]) -> list[tuple[int, int]]:
    """The gaps between sorted distinct `seqs`, as (first missing, last missing)."""
    return [(a + 1, b - 1) for a, b in zip(seqs, seqs[1:], strict=False) if b > a + 1]


class _Device:
    """What the checker gathers for one device before judging it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.messages: list[Message] = []
        self.malformed: list[F.Finding] = []


def _ordering(device: str, boot: str, live: list[Message], retained: dict[int, Message]) -> list[F.Finding]:
    """`duplicate`, `out_of_order` and `lost` findings of one boot's live messages (arrival order)."""
    found: list[F.Finding] = []
    first: dict[int, Message] = {}
    top: Message | None = None
    for m in live:
        seq = m.seq or 0
        if seq in first:
            found.append(F.Finding(F.DUPLICATE, f"seq {seq} received again (first at line {first[seq].line})",
                                   device, boot, seqs=(seq,), messages=(_ref(first[seq]), _ref(m))))
            continue
        if top is not None and seq < (top.seq or 0):
            found.append(F.Finding(F.OUT_OF_ORDER, f"seq {seq} arrived after seq {top.seq}", device, boot,
                                   seqs=(seq,), messages=(_ref(m), _ref(top))))
        first[seq] = m
        if top is None or seq > (top.seq or 0):
            top = m
    if not first:
        return found
    known = {**retained, **first}
    for lo, hi in _runs(sorted(known)):
        if lo < min(first) or hi > max(first):
            continue  # outside the live range: published before we subscribed, or history
        count = hi - lo + 1
        seqs = tuple(range(lo, min(hi, lo + F.SEQS_LISTED - 1) + 1))
        span = f"seq {lo}" if count == 1 else f"seq {lo}..{hi} ({count} messages)"
        found.append(F.Finding(F.LOST, f"{span} never received", device, boot, seqs=seqs, count=count,
                               messages=(_ref(known[lo - 1]), _ref(known[hi + 1]))))
    return found


def _consistency(model: Model | ModuleType, device: str, boot: str, live: list[Message],
                 retained: list[Message]) -> list[F.Finding]:
    """The model's problems with one boot: first copy of each `seq` (live before retained), in `seq` order."""
    first: dict[int, Message] = {}
    for m in (*live, *retained):
        first.setdefault(m.seq or 0, m)
    found: list[F.Finding] = []
    state = model.init()
    for seq in sorted(first):
        m = first[seq]
        state, problems = model.step(state, m)
        for p in problems:
            what = f"{m.kind} seq {m.seq}" + (f" ver {m.ver}" if m.ver is not None else "")
            found.append(F.Finding(p.kind, f"{what}{' (retained)' if m.retained else ''}: {p.detail}", device,
                                   boot, seqs=(seq,), messages=(_ref(m),), expected=p.expected, seen=p.seen))
    return found


def _judge(dev: _Device, model: Model | ModuleType) -> F.DeviceReport:
    counts = {kind: [0, 0] for kind in KINDS}
    boots: dict[str, list[Message]] = {}
    for m in dev.messages:
        counts[m.kind][1 if m.retained else 0] += 1
        if m.boot is not None:
            boots.setdefault(m.boot, []).append(m)
    found = list(dev.malformed)
    summaries = []
    previous = None
    for boot, msgs in boots.items():
        if previous is not None:
            found.append(F.Finding(F.REBOOT, f"new boot {boot} (after {previous})", dev.name, boot,
                                   messages=(_ref(msgs[0]),)))
        previous = boot
        live = [m for m in msgs if not m.retained and m.seq is not None]
        retained = [m for m in msgs if m.retained and m.seq is not None]
        found += _ordering(dev.name, boot, live, {m.seq or 0: m for m in reversed(retained)})
        found += _consistency(model, dev.name, boot, live, retained)
        seqs = [m.seq for m in live if m.seq is not None]
        summaries.append(F.BootSummary(boot, msgs[0].line, len(live), len(retained),
                                       min(seqs) if seqs else None, max(seqs) if seqs else None))
    order = {kind: i for i, kind in enumerate(F.KINDS)}
    found.sort(key=lambda f: (f.line, order.get(f.kind, len(order))))
    return F.DeviceReport(dev.name, {k: (v[0], v[1]) for k, v in counts.items() if v != [0, 0]},
                          tuple(summaries), tuple(found))


def check(items: Iterable[Record | BadLine], model: Model | ModuleType = default_model) -> F.Result:
    """Check a recording: item N is line N (as `monitor.recording.read()` returns them)."""
    devices: dict[str, _Device] = {}
    loose: list[F.Finding] = []
    lines = 0
    for line, item in enumerate(items, start=1):
        lines = line
        if isinstance(item, BadLine):
            if item.torn:
                loose.append(F.Finding(F.TORN, f"line {item.line}: last line torn ({item.reason}), ignored",
                                       messages=(F.Ref(item.line),)))
            else:
                loose.append(F.Finding(F.MALFORMED, f"line {item.line}: {item.reason}", messages=(F.Ref(item.line),)))
            continue
        parsed = try_parse(item, line)
        if isinstance(parsed, Malformed):
            finding = F.Finding(F.MALFORMED, f"line {line}: {parsed.reason}", parsed.device,
                                messages=(_bad_record_ref(item, line),))
            if parsed.device is None:
                loose.append(finding)
            else:
                devices.setdefault(parsed.device, _Device(parsed.device)).malformed.append(finding)
            continue
        devices.setdefault(parsed.device, _Device(parsed.device)).messages.append(parsed)
    reports = tuple(_judge(dev, model) for dev in sorted(devices.values(), key=lambda d: d.name))
    return F.Result(lines=lines, devices=reports, findings=tuple(loose))
