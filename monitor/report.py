"""Rendering a check `Result` for people (`text()`) and for programs (`to_json()`), and one finding as
one line (`finding_line()`, what `record` prints live). Reads only the checker's findings and summaries.
"""

from __future__ import annotations

import json
import time
from typing import Any

from monitor import findings as F

_LABEL = {F.LOST: "LOST", F.DUPLICATE: "DUPLICATE", F.REORDERED: "REORDERED", F.REBOOT: "reboot",
          F.RECONNECT: "reconnect", F.DROPPED_ON_DEVICE: "DROPPED ON DEVICE", F.INCONSISTENT: "INCONSISTENT",
          F.UNACKED: "UNACKED", F.MALFORMED: "MALFORMED"}
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


def _witness(finding: F.Finding) -> str:
    return ", ".join(f"line {r.line} {clock(r.t)}" if r.line else clock(r.t) for r in finding.messages
                     if r.t is not None)


def _extra(finding: F.Finding) -> str:
    info = finding.info
    if "rtt_ms" in info and info["rtt_ms"] is not None:
        return f" (round trip {info['rtt_ms']:.1f} ms)"
    return ""


def finding_line(finding: F.Finding) -> str:
    """One line: `HH:MM:SS.mmm DEVICE LABEL detail [expected ... seen ...]`, as `record` prints them."""
    who = finding.device or "-"
    line = f"{clock(finding.t)} {who} {label(finding)}: {finding.detail}{_extra(finding)}"
    if finding.expected is not None or finding.seen is not None:
        line += f" [expected {_flat(finding.expected or {})}; seen {_flat(finding.seen or {})}]"
    return line


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
    if errors:
        out.append("FAILED: " + ", ".join(f"{n} {k}" for k, n in sorted(errors.items(), key=lambda i: order[i[0]])))
    else:
        out.append("OK")
    return out


def _commands(c: F.CommandSummary) -> str | None:
    if not (c.sent or c.acked_ok or c.rejected):
        return None
    text = f"  commands: {c.sent} seen, {c.acked_ok} acked ok, {c.rejected} rejected, {c.unacked} unacked"
    if c.waiting:
        text += f", {c.waiting} still waiting at the end"
    if c.late_acks:
        text += f", {c.late_acks} acked after their timeout"
    if c.rtt_ms_median is not None:
        text += f"; round trip median {c.rtt_ms_median:.1f} ms, max {c.rtt_ms_max:.1f} ms"
    return text


def text(result: F.Result, source: str = "") -> str:
    """A human report: one block per device, its findings with their witnesses, the verdict last."""
    head = f"{source + ': ' if source else ''}{result.lines} lines, {len(result.devices)} device(s)"
    if result.torn:
        head += "; the last line is torn (a recorder was stopped mid-write) and was ignored"
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
    return "\n".join(out) + "\n"


def to_json(result: F.Result, source: str = "") -> dict[str, Any]:
    """The machine-readable report (see docs/monitor.md for its shape)."""
    devices = {}
    for dev in result.devices:
        c = dev.commands
        devices[dev.device] = {
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
                         "rtt_ms_max": c.rtt_ms_max},
            "findings": [f.to_json() for f in dev.findings],
            "findings_left_out": dev.findings_left_out,
        }
    return {
        "file": source or None,
        "ok": result.ok,
        "errors": result.errors(),
        "lines": result.lines,
        "torn_last_line": result.torn,
        "reorder_timeout_s": result.reorder_timeout,
        "command_timeout_s": result.command_timeout,
        "summary": result.tally(),
        "findings": [f.to_json() for f in result.findings],
        "devices": devices,
    }


def json_text(result: F.Result, source: str = "") -> str:
    return json.dumps(to_json(result, source), indent=2) + "\n"
