"""Rendering a check `Result` for people (`text()`) and for programs (`to_json()`). Reads only findings."""

from __future__ import annotations

import json
import time
from typing import Any

from monitor import findings as F

_LABEL = {F.LOST: "LOST", F.DUPLICATE: "DUPLICATE", F.OUT_OF_ORDER: "OUT OF ORDER",
          F.INCONSISTENT: "INCONSISTENT", F.MALFORMED: "MALFORMED", F.REBOOT: "reboot",
          F.UNKNOWN: "unknown", F.TORN: "torn"}
_WIDTH = max(len(label) for label in _LABEL.values())


def clock(t: float | None) -> str:
    """`HH:MM:SS.mmm` local time of epoch seconds `t` ("?" when unknown)."""
    if t is None:
        return "?"
    return time.strftime("%H:%M:%S", time.localtime(t)) + f".{int(t * 1000) % 1000:03d}"


def _flat(values: Any) -> str:
    if isinstance(values, dict):
        return " ".join(f"{k}={_flat(v)}" if not isinstance(v, dict) else f"{k}({_flat(v)})"
                        for k, v in values.items())
    if isinstance(values, bool):
        return "1" if values else "0"
    return str(values)


def _finding_lines(finding: F.Finding) -> list[str]:
    where = ", ".join(f"line {r.line} {clock(r.t)}" for r in finding.messages if r.t is not None)
    label = _LABEL.get(finding.kind, finding.kind)
    lines = [f"  {label:<{_WIDTH}}  {finding.detail}" + (f"  [{where}]" if where else "")]
    if finding.expected is not None:
        lines.append(f"  {'':<{_WIDTH}}    expected: {_flat(finding.expected)}")
    if finding.seen is not None:
        lines.append(f"  {'':<{_WIDTH}}    seen:     {_flat(finding.seen)}")
    return lines


def _summary(result: F.Result) -> str:
    tally = result.tally()
    errors = {k: n for k, n in tally.items() if k in F.ERRORS}
    notes = {k: n for k, n in tally.items() if k in F.NOTES}
    parts = ", ".join(f"{n} {k}" for k, n in errors.items())
    head = f"FAILED: {parts}" if errors else "OK"
    if notes:
        head += " (" + ", ".join(f"{n} {k}" for k, n in notes.items()) + ")"
    return head


def text(result: F.Result, source: str = "") -> str:
    """A human report: one block per device, findings by recording line, a verdict at the end."""
    out = [f"{source + ': ' if source else ''}{result.lines} lines, {len(result.devices)} device(s)"]
    out += [line for f in result.findings for line in _finding_lines(f)]
    for dev in result.devices:
        out.append("")
        out.append(f"device {dev.device}")
        counts = ", ".join(f"{kind} {live}" + (f" (+{ret} retained)" if ret else "")
                           for kind, (live, ret) in dev.counts.items())
        out.append(f"  messages: {counts or 'none'}")
        for b in dev.boots:
            span = f"seq {b.seq_first}..{b.seq_last}" if b.seq_first is not None else "no live seq"
            out.append(f"  boot {b.boot}: {b.live} live, {b.retained} retained, {span} (from line {b.first_line})")
        out += [line for f in dev.findings for line in _finding_lines(f)]
    out.append("")
    out.append(_summary(result))
    return "\n".join(out) + "\n"


def _ref(ref: F.Ref) -> dict[str, Any]:
    return {"line": ref.line, "t": ref.t, "topic": ref.topic, "seq": ref.seq, "ver": ref.ver,
            "retained": ref.retained}


def _finding(finding: F.Finding) -> dict[str, Any]:
    obj: dict[str, Any] = {"kind": finding.kind, "error": finding.is_error, "detail": finding.detail,
                           "boot": finding.boot, "seqs": list(finding.seqs), "count": finding.count,
                           "messages": [_ref(r) for r in finding.messages]}
    if finding.expected is not None:
        obj["expected"] = finding.expected
    if finding.seen is not None:
        obj["seen"] = finding.seen
    return obj


def to_json(result: F.Result, source: str = "") -> dict[str, Any]:
    """The machine-readable report (see docs/monitor.md for its shape)."""
    return {
        "file": source or None,
        "ok": result.ok,
        "lines": result.lines,
        "torn_last_line": result.torn,
        "summary": result.tally(),
        "findings": [_finding(f) for f in result.findings],
        "devices": {
            dev.device: {
                "ok": dev.ok,
                "counts": {kind: {"live": live, "retained": ret} for kind, (live, ret) in dev.counts.items()},
                "boots": [{"boot": b.boot, "first_line": b.first_line, "live": b.live, "retained": b.retained,
                           "seq_first": b.seq_first, "seq_last": b.seq_last} for b in dev.boots],
                "findings": [_finding(f) for f in dev.findings],
            }
            for dev in result.devices
        },
    }


def json_text(result: F.Result, source: str = "") -> str:
    return json.dumps(to_json(result, source), indent=2) + "\n"
