"""Rendering a check `Result` for people (`text()`) and for programs (`to_json()`), and one finding as
one line (`finding_line()`, what `record` prints live). Reads only the checker's findings and summaries.
Every line it returns is `printable()`: device ids, details and witnesses come from the network.

A check that found no message from any device (an empty file, a text file that is not a recording) is
not trusted (`trusted()`): its verdict is `FAILED: no device messages found`, whatever else it found.
"""

from __future__ import annotations

import json
import time
from typing import Any

from monitor import findings as F
from monitor.text import printable, printable_json

_LABEL = {F.LOST: "LOST", F.DUPLICATE: "DUPLICATE", F.REORDERED: "REORDERED", F.REBOOT: "reboot",
          F.RECONNECT: "reconnect", F.DROPPED_ON_DEVICE: "DROPPED ON DEVICE", F.INCONSISTENT: "INCONSISTENT",
          F.UNACKED: "UNACKED", F.SILENT: "SILENT", F.MALFORMED: "MALFORMED", F.UNSEEN: "unseen",
          F.CLOCK_STEP: "clock step", F.UNTRACKED: "untracked", F.BROKER_DROPPED: "broker dropped"}
_WIDTH = max(len(label) for label in _LABEL.values())


def clock(t: float | None) -> str:
    """`HH:MM:SS.mmm` local time of epoch seconds `t` ("?" when unknown)."""
    if t is None:
        return "?"
    return time.strftime("%H:%M:%S", time.localtime(t)) + f".{int(t * 1000) % 1000:03d}"


def label(finding: F.Finding) -> str:
    """Upper case for errors, lower case for what is only information."""
    name = _LABEL.get(finding.kind, finding.kind)
    return name.upper() if finding.error else name.lower()


def _flat(values: Any) -> str:
    if isinstance(values, dict):
        return " ".join(f"{k}={_flat(v)}" if not isinstance(v, dict) else f"{k}({_flat(v)})"
                        for k, v in values.items())
    if isinstance(values, bool):
        return "1" if values else "0"
    return str(values)


def _spans_days(finding: F.Finding) -> bool:
    """Whether the finding's messages arrived on more than one day (local time): then dates are shown."""
    return len({time.localtime(r.t)[:3] for r in finding.messages if r.t is not None}) > 1


def stamp(t: float | None, dated: bool) -> str:
    """`clock(t)`, with the date in front when `dated`."""
    return clock(t) if not dated or t is None else time.strftime("%Y-%m-%d ", time.localtime(t)) + clock(t)


def _witness(finding: F.Finding) -> str:
    dated = _spans_days(finding)
    return ", ".join(f"line {r.line} {stamp(r.t, dated)}" if r.line else stamp(r.t, dated) for r in finding.messages
                     if r.t is not None)


def _extra(finding: F.Finding) -> str:
    info = finding.info
    if "rtt_ms" in info and info["rtt_ms"] is not None:
        return f" (round trip {info['rtt_ms']:.1f} ms)"
    return ""


def finding_line(finding: F.Finding) -> str:
    """One line: `HH:MM:SS.mmm DEVICE LABEL detail [expected ... seen ...]`, as `record` prints them."""
    who = finding.device or "-"
    line = f"{stamp(finding.t, _spans_days(finding))} {who} {label(finding)}: {finding.detail}{_extra(finding)}"
    if finding.expected is not None or finding.seen is not None:
        line += f" [expected {_flat(finding.expected or {})}; seen {_flat(finding.seen or {})}]"
    return printable(line)


def _finding_lines(finding: F.Finding) -> list[str]:
    where = _witness(finding)
    lines = [f"  {label(finding):<{_WIDTH}}  {finding.detail}{_extra(finding)}" + (f"  [{where}]" if where else "")]
    if finding.expected is not None:
        lines.append(f"  {'':<{_WIDTH}}    expected: {_flat(finding.expected)}")
    if finding.seen is not None:
        lines.append(f"  {'':<{_WIDTH}}    seen:     {_flat(finding.seen)}")
    return lines


def _verdict(result: F.Result) -> list[str]:
    errors: dict[str, int] = {}
    notes: dict[str, int] = {}
    for f in result.findings:
        (errors if f.error else notes)[f.kind] = (errors if f.error else notes).get(f.kind, 0) + 1
    for dev in result.devices:
        for kind, (n, e) in dev.tally.items():
            if e:
                errors[kind] = errors.get(kind, 0) + e
            if n - e:
                notes[kind] = notes.get(kind, 0) + n - e
    order = {kind: i for i, kind in enumerate(F.KINDS)}
    out = []
    if notes:
        out.append("notes: " + ", ".join(f"{n} {k}" for k, n in sorted(notes.items(), key=lambda i: order[i[0]])))
    failed = [f"{n} {k}" for k, n in sorted(errors.items(), key=lambda i: order[i[0]])]
    if not result.devices:
        why = "not a recording?" if result.lines else "the file is empty"
        failed.insert(0, f"no device messages found ({why})")
    out.append("FAILED: " + ", ".join(failed) if failed else "OK")
    return out


def trusted(result: F.Result) -> bool:
    """The check passed: no finding fails it, and at least one device was heard from."""
    return result.ok and bool(result.devices)


def _commands(c: F.CommandSummary) -> str | None:
    if not (c.sent or c.acked_ok or c.rejected):
        return None
    text = f"  commands: {c.sent} seen, {c.acked_ok} acked ok, {c.rejected} rejected, {c.unacked} unacked"
    if c.waiting:
        text += f", {c.waiting} still waiting at the end"
    if c.late_acks:
        text += f", {c.late_acks} acked after their timeout"
    if c.untracked:
        text += f", {c.untracked} not tracked (too many waiting at once: not checked)"
    if c.unmatched_acks:
        text += f", {c.unmatched_acks} ack(s) perhaps for those"
    if c.rtt_ms_median is not None:
        text += f"; round trip median {c.rtt_ms_median:.1f} ms, max {c.rtt_ms_max:.1f} ms"
    return text


def text(result: F.Result, source: str = "") -> str:
    """A human report: one block per device, its findings with their witnesses, the verdict last."""
    head = f"{source + ': ' if source else ''}{result.lines} lines, {len(result.devices)} device(s)"
    if result.untracked_devices:
        head += f"; {result.untracked_devices} more device id(s) beyond --max-devices {result.max_devices} " \
                f"not checked ({result.untracked_messages} message(s) counted)"
    if result.torn:
        head += "; the last line is torn (cut short mid-write: its recorder was killed, or its disk was full) " \
                "and was ignored"
    out = [head, f"reorder timeout {result.reorder_timeout:g} s, command timeout {result.command_timeout:g} s"]
    out += [line for f in result.findings for line in _finding_lines(f)]
    for dev in result.devices:
        out.append("")
        state = {True: "online", False: "offline", None: "status unknown"}[dev.online]
        out.append(f"device {dev.device} ({state})")
        counts = ", ".join(f"{kind} {live}" + (f" (+{ret} retained)" if ret else "")
                           for kind, (live, ret) in dev.counts.items())
        out.append(f"  messages: {counts or 'none'}")
        for b in dev.boots:
            span = f"seq {b.seq_first}..{b.seq_last}" if b.seq_first is not None else "no live seq"
            sess = "" if b.sess_first is None else (
                f", session {b.sess_first}" if b.sess_last in (None, b.sess_first) else
                f", sessions {b.sess_first}..{b.sess_last}")
            out.append(f"  boot {b.boot}: {b.live} live, {b.retained} retained, {span} (from line {b.first_line}){sess}")
        if dev.snapshots:
            out.append(f"  snapshots: {dev.snapshots} live, {dev.snapshots_checked} checked against the model")
        commands = _commands(dev.commands)
        if commands:
            out.append(commands)
        out += [line for f in dev.findings for line in _finding_lines(f)]
        if dev.findings_left_out:
            out.append(f"  ... and {dev.findings_left_out} more findings (counted, not listed)")
    out.append("")
    out += _verdict(result)
    return "\n".join(printable(line) for line in out) + "\n"


def to_json(result: F.Result, source: str = "") -> dict[str, Any]:
    """The machine-readable report (see docs/monitor.md for its shape)."""
    obj = _head_json(result, source)
    obj["devices"] = {dev.device: _device_json(dev) for dev in result.devices}
    return obj


def _device_json(dev: F.DeviceReport) -> dict[str, Any]:
    c = dev.commands
    return {
        "ok": dev.ok,
        "online": dev.online,
        "summary": {kind: {"count": n, "errors": e} for kind, (n, e) in dev.tally.items()},
        "counts": {kind: {"live": live, "retained": ret} for kind, (live, ret) in dev.counts.items()},
        "boots": [{"boot": b.boot, "first_line": b.first_line, "live": b.live, "retained": b.retained,
                   "seq_first": b.seq_first, "seq_last": b.seq_last, "sess_first": b.sess_first,
                   "sess_last": b.sess_last} for b in dev.boots],
        "snapshots": {"live": dev.snapshots, "checked": dev.snapshots_checked},
        "commands": {"seen": c.sent, "acked_ok": c.acked_ok, "rejected": c.rejected, "unacked": c.unacked,
                     "waiting": c.waiting, "late_acks": c.late_acks, "rtt_ms_median": c.rtt_ms_median,
                     "rtt_ms_max": c.rtt_ms_max, "untracked": c.untracked,
                     "unmatched_acks": c.unmatched_acks},
        "findings": [f.to_json() for f in dev.findings],
        "findings_left_out": dev.findings_left_out,
    }


def _head_json(result: F.Result, source: str) -> dict[str, Any]:
    """`to_json()` but its `devices`."""
    return {
        "file": source or None,
        "ok": trusted(result),
        "errors": result.errors(),
        "lines": result.lines,
        "torn_last_line": result.torn,
        "reorder_timeout_s": result.reorder_timeout,
        "command_timeout_s": result.command_timeout,
        "max_devices": result.max_devices,
        "untracked_devices": result.untracked_devices,
        "untracked_messages": result.untracked_messages,
        "summary": result.tally(),
        "findings": [f.to_json() for f in result.findings],
    }


def json_text(result: F.Result, source: str = "") -> str:
    """`json.dumps(to_json(result, source), indent=2)`, the same text, made one device at a time: the standard
    library's indenting encoder holds a small string for every token until the end, about ten times the
    text (a gigabyte for 100,000 devices)."""
    head = json.dumps(_head_json(result, source), indent=2)[:-2]  # without its closing "\n}"
    if result.devices:
        body = ",\n".join(f"    {json.dumps(dev.device)}: "
                          + json.dumps(_device_json(dev), indent=2).replace("\n", "\n    ")
                          for dev in result.devices)
        text = f'{head},\n  "devices": {{\n{body}\n  }}\n}}'
    else:
        text = f'{head},\n  "devices": {{}}\n}}'
    return printable_json(text) + "\n"
