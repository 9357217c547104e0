"""A `Timeline` drawn as SVG text: the one renderer behind `.svg`, `.html` (inline) and `.png` (rasterized).

Layout: a title, a legend and a time axis (local clock time, gridlines through everything), then one block
per device: a header (its id and what the check found) and its lanes, each labelled on the left. The
drawing is meant to be read at a glance: anything wrong is red (or orange, purple) and has a word next to
it; what is normal is green, grey or pale. Every finding is a `<g class="finding">` placed with
`transform="translate(x,y)"` and carrying `data-kind`, `data-t` and `data-line`, with its witness as its
`<title>` (hover text in a browser) and a short label drawn beside it (for static pictures). Tests and
scripts can find each finding on the drawing by these; the root `<svg>` carries `data-t0`, `data-t1`,
`data-x0`, `data-x1` (the time axis).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from html import escape

from monitor.plot.lanes import DeviceLanes, Mark, Span, Timeline
from monitor.report import clock
from monitor.text import cut

WIDTH = 1280
LEFT = 150
"""The label column: lane names left, row tags right-aligned against the plot."""
RIGHT = 24
FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
CHAR_W = 6.1
"""The width of a character at font size 10, near enough to pack labels without overlap."""

RED, ORANGE, PURPLE, GREEN, GREY, BLUE = "#d62728", "#e67e00", "#8e44ad", "#2ca02c", "#6b7b8c", "#1f77b4"
LED_FILL = {"on": "#f5b800", "off": "#4a4a4a", "auto": "#fbe7a1"}
LED_TEXT = {"on": "#000", "off": "#fff", "auto": "#6b5a00"}
MODE_FILL = {"slow": "#d6e6f5", "fast": "#3d85c6"}
MODE_TEXT = {"slow": "#24527a", "fast": "#fff"}
BOOT_FILL = ("#e4e4f2", "#d2d2ea")
LABEL_ROWS = 6
"""Finding labels are stacked in at most this many rows; a mark whose label does not fit keeps its hover text."""


def esc(text: str) -> str:
    return escape(text.replace("\ufffe", "?").replace("\uffff", "?"), quote=True)


def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


class _Canvas:
    def __init__(self, t0: float, t1: float) -> None:
        if not t1 > t0:
            t0, t1 = t0 - 0.5, t0 + 0.5
        self.t0, self.t1 = t0, t1
        self.x0, self.x1 = float(LEFT), float(WIDTH - RIGHT)
        self.out: list[str] = []

    def x(self, t: float) -> float:
        return self.x0 + (t - self.t0) / (self.t1 - self.t0) * (self.x1 - self.x0)

    def add(self, s: str) -> None:
        self.out.append(s)

    def text(self, x: float, y: float, s: str, size: float = 10, fill: str = "#222", anchor: str = "start",
             weight: str = "normal", cls: str = "") -> None:
        c = f' class="{cls}"' if cls else ""
        w = f' font-weight="{weight}"' if weight != "normal" else ""
        a = f' text-anchor="{anchor}"' if anchor != "start" else ""
        self.add(f'<text{c} x="{_f(x)}" y="{_f(y)}" font-size="{_f(size)}" fill="{fill}"{a}{w}>{esc(s)}</text>')

    def rect(self, x: float, y: float, w: float, h: float, fill: str, extra: str = "") -> None:
        self.add(f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(max(w, 0.0))}" height="{_f(h)}" fill="{fill}"{extra}/>')

    def span(self, t0: float, t1: float, y: float, h: float, fill: str, min_w: float = 1.5,
             extra: str = "") -> tuple[float, float]:
        a, b = self.x(t0), self.x(t1)
        self.rect(a, y, max(b - a, min_w), h, fill, extra)
        return a, max(b - a, min_w)


def _ticks(t0: float, t1: float) -> tuple[float, list[float]]:
    span = t1 - t0
    steps = [m * 10 ** e for e in range(-3, 2) for m in (1, 2, 5)] + [15, 30, 60, 120, 300, 600, 900, 1800, 3600,
                                                                        7200, 21600, 43200, 86400]
    step = next((s for s in steps if span / s <= 10), steps[-1] * max(1, math.ceil(span / steps[-1] / 10)))
    first = math.ceil(t0 / step) * step
    return step, [first + i * step for i in range(int((t1 - first) / step) + 1)]


def _tick_label(t: float, step: float) -> str:
    if step < 1:
        return clock(t)[-9 if step >= 0.1 else -12:]  # seconds (and milliseconds) once the minute is clear
    return time.strftime("%H:%M:%S" if step < 60 else "%H:%M", time.localtime(t))


def _pack(items: list[tuple[float, float]], limit: float, rows: int) -> list[int | None]:
    """A row for each `(x, width)` label (in x order) so that none overlaps another; None when none is free."""
    ends: list[float] = []
    out: list[int | None] = []
    for x, w in items:
        start, end = (x, x + w) if x + w <= limit else (x - w, x)
        row = next((i for i, e in enumerate(ends) if e < start), None)
        if row is None and len(ends) < rows:
            ends.append(0.0)
            row = len(ends) - 1
        if row is not None:
            ends[row] = end + 6
        out.append(row)
    return out


def _lane_box(c: _Canvas, y: float, h: float, name: str, shade: bool) -> None:
    if shade:
        c.rect(c.x0, y, c.x1 - c.x0, h, "#f6f7f9")
    c.text(10, y + min(h, 20) / 2 + 4, name, size=10.5, fill="#444")


def _finding_marks(c: _Canvas, marks: list[Mark], y: float, device: str | None) -> float:
    """The findings lane from `y`: its height. Errors are red triangles, notes grey circles."""
    row_h = 13.0
    labels = [cut(m.label, 90) for m in marks]
    rows = _pack([(c.x(m.t) + 7, len(s) * CHAR_W) for m, s in zip(marks, labels, strict=True)], c.x1, LABEL_ROWS)
    used = max((r for r in rows if r is not None), default=0) + 1
    h = max(20.0, used * row_h + 8)
    if not marks:
        c.text(c.x0 + 4, y + 13, "none", size=9, fill="#aaa")
    for m, s, row in zip(marks, labels, rows, strict=True):
        x, my = c.x(m.t), y + 10
        colour = RED if m.error else GREY
        dev = f' data-device="{esc(device)}"' if device is not None else ""
        c.add(f'<g class="finding{" error" if m.error else " note"}" data-kind="{esc(m.kind)}" data-t="{m.t!r}" '
              f'data-line="{m.line}"{dev} transform="translate({_f(x)},{_f(my)})">')
        c.add(f"<title>{esc(m.witness)}</title>")
        if m.error:
            c.add(f'<path d="M-5,-6 L5,-6 L0,3 Z" fill="{colour}"/>')
        else:
            c.add(f'<circle r="3.5" fill="#fff" stroke="{colour}" stroke-width="1.5"/>')
        if row is not None:
            w = len(s) * CHAR_W
            right = x + 7 + w <= c.x1
            ty = row * row_h + 3
            if row:  # a leader from the mark down to its label
                c.add(f'<path d="M0,3 L0,{_f(ty - 3)}" stroke="{colour}" stroke-width="0.6" opacity="0.6"/>')
            anchor = "" if right else ' text-anchor="end"'
            c.add(f'<text x="{7 if right else -7}" y="{_f(ty)}" font-size="10" fill="{colour}"{anchor}>'
                  f"{esc(s)}</text>")
        c.add("</g>")
    return h


def _steps(c: _Canvas, dev: DeviceLanes, y: float) -> float:
    h = 46.0
    rows = {"gap": y + 7, "1": y + 18, "dup": y + 29, "reorder": y + 40}
    for name, tag in (("gap", "gap >1"), ("1", "1"), ("dup", "dup 0"), ("reorder", "reorder <0")):
        c.text(LEFT - 6, rows[name] + 3, tag, size=8, fill="#888", anchor="end")
        c.add(f'<line x1="{_f(c.x0)}" x2="{_f(c.x1)}" y1="{_f(rows[name])}" y2="{_f(rows[name])}" '
              f'stroke="#e2e2e2" stroke-width="0.7"/>')
    for run in dev.runs:
        a, b = c.x(run.t0), c.x(run.t1)
        c.add(f'<line class="run" x1="{_f(a - 1)}" x2="{_f(max(b, a) + 1)}" y1="{_f(rows["1"])}" '
              f'y2="{_f(rows["1"])}" stroke="{GREEN}" stroke-width="3" stroke-linecap="round">'
              f"<title>{run.count} message(s) in order</title></line>")
    for s in dev.steps:
        name, colour = ("gap", RED) if s.step > 1 else ("dup", ORANGE) if s.step == 0 else ("reorder", PURPLE)
        x, sy = c.x(s.t), rows[name]
        label = f"+{s.step}" if s.step > 0 else "0" if s.step == 0 else f"\u2212{-s.step}"
        what = {"gap": f"{s.step - 1} missing", "dup": "duplicate", "reorder": "reordered"}[name]
        c.add(f'<g class="step" data-step="{s.step}" data-t="{s.t!r}" transform="translate({_f(x)},{_f(sy)})">'
              f"<title>line {s.line}: {esc(s.topic)} seq {s.seq} after seq {s.prev}: step {s.step} ({what})</title>"
              f'<line x1="0" x2="0" y1="0" y2="{_f(rows["1"] - sy)}" stroke="{colour}" stroke-width="1.2"/>'
              f'<circle r="4" fill="{colour}"/>'
              f'<text x="6" y="3.5" font-size="9" fill="{colour}" font-weight="bold">{esc(label)}</text></g>')
    return h


def _spans(c: _Canvas, spans: list[Span], y: float, h: float, fill: dict[str, str], ink: dict[str, str]) -> None:
    for sp in spans:
        a, w = c.span(sp.t0, sp.t1, y, h, fill.get(sp.value, "#ccc"))
        if w > len(sp.value) * 5.6 + 6:
            c.text(a + 3, y + h / 2 + 3.5, sp.value, size=9.5, fill=ink.get(sp.value, "#222"))


def _led(c: _Canvas, dev: DeviceLanes, y: float) -> float:
    _spans(c, dev.led, y + 2, 13, LED_FILL, LED_TEXT)
    c.text(LEFT - 6, y + 12, "policy", size=8, fill="#888", anchor="end")
    c.text(LEFT - 6, y + 23, "lit", size=8, fill="#888", anchor="end")
    for t, lit in dev.lit:
        c.rect(c.x(t) - 1.5, y + 17, 3, 7, "#f5b800" if lit else "#4a4a4a")
    return 26.0


def _mode(c: _Canvas, dev: DeviceLanes, y: float) -> float:
    _spans(c, dev.mode, y + 2, 13, MODE_FILL, MODE_TEXT)
    return 17.0


def _buttons(c: _Canvas, dev: DeviceLanes, y: float, end: float) -> float:
    for i, button in enumerate("ab"):
        ry = y + 3 + i * 11
        c.text(LEFT - 6, ry + 7, button.upper(), size=8, fill="#888", anchor="end")
        colour = "#8c564b" if button == "a" else "#17a2b8"
        down: float | None = None
        for t, b, pressed in [*dev.presses, (end, button, False)]:
            if b != button:
                continue
            if pressed and down is None:
                down = t
                c.add(f'<path d="M{_f(c.x(t))},{_f(ry - 1)} l0,10" stroke="{colour}" stroke-width="2"/>')
            elif not pressed and down is not None:
                c.span(down, t, ry + 1, 6, colour, extra=' opacity="0.55"')
                down = None
    return 25.0


def _temps(c: _Canvas, dev: DeviceLanes, y: float) -> float:
    h = 30.0
    if not dev.temps:
        c.text(c.x0 + 4, y + 17, "no readings", size=9, fill="#aaa")
        return 22.0
    lo, hi = min(v for _, v in dev.temps), max(v for _, v in dev.temps)
    if hi - lo < 1:
        lo, hi = (lo + hi) / 2 - 0.5, (lo + hi) / 2 + 0.5
    py = lambda v: y + h - 3 - (v - lo) / (hi - lo) * (h - 6)  # noqa: E731
    c.text(LEFT - 6, y + 9, f"{hi:.1f}", size=8, fill="#888", anchor="end")
    c.text(LEFT - 6, y + h - 1, f"{lo:.1f}", size=8, fill="#888", anchor="end")
    points: list[str] = []
    last_x = -1.0
    for t, v in dev.temps:  # at most one point per half pixel: a long recording stays a small picture
        x = c.x(t)
        if x - last_x >= 0.5:
            points.append(f"{_f(x)},{_f(py(v))}")
            last_x = x
    if len(points) == 1:  # one reading: a short dash, not nothing
        x, v = dev.temps[0][0], dev.temps[0][1]
        points.append(f"{_f(c.x(x) + 2)},{_f(py(v))}")
    c.add(f'<polyline points="{" ".join(points)}" fill="none" stroke="#c2388f" stroke-width="1.5"/>')
    return h


def _commands(c: _Canvas, dev: DeviceLanes, y: float, end: float) -> float:
    row_h = 12.0
    cmds = sorted(dev.commands, key=lambda k: k.t)
    labels = []
    for k in cmds:
        if k.ok is None:
            labels.append(f"{k.what}: no ack")
        elif k.ok:
            labels.append(f"{k.what} \u2713 {(k.t_ack - k.t) * 1000:.0f} ms")  # type: ignore[operator]
        else:
            labels.append(f"{k.what} \u2717 {k.error}")
    labels = [cut(s, 60) for s in labels]
    rows = _pack([(c.x(k.t) + 5, len(s) * CHAR_W * 0.9) for k, s in zip(cmds, labels, strict=True)], c.x1, 3)
    used = max((r for r in rows if r is not None), default=0) + 1
    h = max(18.0, 12 + used * row_h)
    for k, s, row in zip(cmds, labels, rows, strict=True):
        colour = GREEN if k.ok else ORANGE if k.ok is False else RED  # rejected: answered; no ack: an error
        x = c.x(k.t)
        ack = k.t_ack if k.t_ack is not None else end
        x2 = c.x(ack)
        title = f"command {k.cid or '(no id)'} {k.what}: " + (
            "no ack" if k.ok is None else f"ack ok after {(ack - k.t) * 1000:.1f} ms" if k.ok
            else f"rejected after {(ack - k.t) * 1000:.1f} ms: {k.error}")
        cy = y + 6
        dash = ' stroke-dasharray="3,2"' if k.ok is None else ""
        c.add(f'<g class="command" data-t="{k.t!r}" data-ok="{"" if k.ok is None else int(k.ok)}">'
              f"<title>{esc(title)}</title>"
              f'<line x1="{_f(x)}" x2="{_f(max(x2, x + 2))}" y1="{_f(cy)}" y2="{_f(cy)}" stroke="{colour}" '
              f'stroke-width="2.5"{dash}/>'
              f'<circle cx="{_f(x)}" cy="{_f(cy)}" r="3" fill="#fff" stroke="{colour}" stroke-width="1.5"/>')
        if k.t_ack is not None:
            c.add(f'<rect x="{_f(x2 - 2.5)}" y="{_f(cy - 2.5)}" width="5" height="5" fill="{colour}"/>')
        if row is not None:
            w = len(s) * CHAR_W * 0.9
            right = x + 5 + w <= c.x1
            anchor = "" if right else ' text-anchor="end"'
            c.add(f'<text x="{_f(x + 5 if right else x - 5)}" y="{_f(cy + 11 + row * row_h)}" font-size="9" '
                  f'fill="{colour}"{anchor}>{esc(s)}</text>')
        c.add("</g>")
    return h


def _life(c: _Canvas, dev: DeviceLanes, y: float) -> float:
    h = 16.0
    for i, b in enumerate(dev.boots):
        a, w = c.span(b.t0, b.t1, y + 1, h - 2, BOOT_FILL[i % 2])
        if w > 70:
            c.text(a + 3, y + 11.5, f"boot {b.value}", size=9, fill="#4a4a7a")
    for s in dev.sessions:
        if s.value != "s1":
            x = c.x(s.t0)
            c.add(f'<path d="M{_f(x)},{_f(y + 1)} l0,{_f(h - 2)}" stroke="#4a4a7a" stroke-width="1.5"/>')
            c.text(x + 2, y + 11.5, s.value, size=8.5, fill="#4a4a7a", weight="bold")
    for o in dev.outages:
        a, w = c.span(o.t0, o.t1, y + 1, h - 2, "url(#hatch)")
        if w > 40:
            c.text(a + 3, y + 11.5, "offline", size=9, fill="#333")
    return h


LEGEND = [(RED, "error finding"), (GREY, "note"), (GREEN, "seq step 1 (in order)"), (RED, "gap"),
          (ORANGE, "duplicate / rejected"), (PURPLE, "reorder"), ("url(#hatch)", "offline"),
          ("#fbe4e4", "monitor away")]


def render(tl: Timeline) -> str:
    """The whole timeline as one standalone SVG document."""
    t0 = tl.t0 if tl.t0 is not None else 0.0
    t1 = tl.t1 if tl.t1 is not None else t0
    c = _Canvas(t0, t1)
    step, ticks = _ticks(c.t0, c.t1)
    body_top = 92.0
    y = body_top
    blocks: list[tuple[float, float]] = []

    if tl.other:
        c.text(10, y + 14, "the recording (findings of no device)", size=12, weight="bold")
        y += 20
        y += _finding_marks(c, tl.other, y, None) + 14
    for dev in tl.devices:
        top = y
        c.add(f'<g class="device" data-device="{esc(dev.device)}">')
        errors = dev.errors
        notes = sum(n for n, _ in dev.tally.values()) - errors
        c.rect(0, y, WIDTH, 22, "#fde2e2" if errors else "#eef2f6")
        c.text(10, y + 15.5, cut(dev.device, 40), size=12.5, weight="bold", fill="#111")
        kinds = ", ".join(f"{k} {n}" for k, (n, e) in sorted(dev.tally.items()) if e)
        summary = (f"{errors} error(s): {kinds}" if errors else "OK") + (f" · {notes} note(s)" if notes else "") + \
            f" · {dev.messages} message(s), {len(dev.boots)} boot(s), {len(dev.commands)} command(s)"
        c.text(LEFT + 120, y + 15.5, summary, size=11, fill=RED if errors else "#2a6d2a",
               weight="bold" if errors else "normal")
        y += 26
        lanes: list[tuple[str, Callable[[float], float]]] = [
            ("boot · session", lambda yy: _life(c, dev, yy)),
            ("seq step", lambda yy: _steps(c, dev, yy)),
            ("findings", lambda yy: _finding_marks(c, dev.findings, yy, dev.device)),
            ("LED", lambda yy: _led(c, dev, yy)),
            ("mode", lambda yy: _mode(c, dev, yy)),
            ("buttons", lambda yy: _buttons(c, dev, yy, c.t1)),
            ("temp °C", lambda yy: _temps(c, dev, yy)),
            ("commands", lambda yy: _commands(c, dev, yy, c.t1)),
        ]
        for i, (name, draw) in enumerate(lanes):
            at = len(c.out)
            h = draw(y)
            c.add(f'<g class="lane" data-lane="{name.split()[0].lower()}" data-y0="{_f(y)}" data-y1="{_f(y + h)}"/>')
            box = _Canvas(c.t0, c.t1)  # the lane's shade and name go under what it drew
            _lane_box(box, y, h, name, i % 2 == 0)
            c.out[at:at] = box.out
            y += h + 3
        blocks.append((top, y))
        for m in dev.findings:  # an error's time, through the whole block: what it lines up with
            if m.error:
                x = c.x(m.t)
                c.add(f'<path d="M{_f(x)},{_f(top + 22)} L{_f(x)},{_f(y)}" stroke="{RED}" stroke-width="0.8" '
                      f'stroke-dasharray="2,3" opacity="0.55"/>')
        for o in dev.outages:
            c.span(o.t0, o.t1, top + 22, y - top - 22, "#888", extra=' opacity="0.12"')
        c.add("</g>")
        y += 14
    if not tl.devices:
        c.text(c.x0, y + 20, "no device messages in this recording", size=12, fill=RED)
        y += 30
    left_out = tl.total_devices - len(tl.devices)
    if left_out > 0:
        c.text(10, y + 12, f"{left_out} more device(s) not drawn: choose with --device ID, or draw more with "
                           f"--max-devices N", size=11, fill="#555")
        y += 22
    height = y + 26

    head: list[str] = []
    h = head.append
    h(f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{_f(height)}" '
      f'viewBox="0 0 {WIDTH} {_f(height)}" font-family="{FONT}" data-t0="{c.t0!r}" data-t1="{c.t1!r}" '
      f'data-x0="{_f(c.x0)}" data-x1="{_f(c.x1)}">')
    h('<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
      '<rect width="6" height="6" fill="#d9d9d9"/><line x1="0" y1="0" x2="0" y2="6" stroke="#999" stroke-width="2"/>'
      "</pattern></defs>")
    h(f'<rect width="{WIDTH}" height="{_f(height)}" fill="#fff"/>')
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t0)) if tl.t0 is not None else "?"
    other = sum(m.error for m in tl.other)
    drawn = f"{len(tl.devices)} of {tl.total_devices} device(s) drawn" + (
        f", {tl.with_findings} with errors" if tl.with_findings else ", no device with errors") + (
        f", {other} error(s) of no device" if other else "")
    h(f'<text x="10" y="22" font-size="16" font-weight="bold" fill="#111">{esc("timeline of " + tl.source)}</text>')
    h(f'<text x="10" y="40" font-size="11.5" fill="#444">{esc(f"{when} for {t1 - t0:.1f} s · {drawn}")}</text>')
    lx = 10.0
    for colour, name in LEGEND:
        h(f'<rect x="{_f(lx)}" y="50" width="10" height="10" fill="{colour}"/>')
        h(f'<text x="{_f(lx + 14)}" y="59" font-size="10" fill="#333">{esc(name)}</text>')
        lx += 14 + len(name) * CHAR_W + 16
    h(f'<text x="{_f(lx)}" y="59" font-size="10" fill="#777">'
      f'{esc("hover a mark for its witness (HTML)")}</text>')
    for t in ticks:  # the time axis, top and bottom, and its gridlines
        x = c.x(t)
        label = esc(_tick_label(t, step))
        h(f'<path d="M{_f(x)},{_f(body_top - 8)} L{_f(x)},{_f(y)}" stroke="#e6e6e6" stroke-width="1"/>')
        h(f'<text x="{_f(x)}" y="{_f(body_top - 12)}" font-size="10" fill="#555" text-anchor="middle">{label}</text>')
        h(f'<text x="{_f(x)}" y="{_f(y + 14)}" font-size="10" fill="#555" text-anchor="middle">{label}</text>')
    for a in tl.away:
        x0, x1 = c.x(a.t0), c.x(a.t1)
        h(f'<rect class="away" x="{_f(x0)}" y="{_f(body_top - 8)}" width="{_f(max(x1 - x0, 1.5))}" '
          f'height="{_f(y - body_top + 8)}" fill="{RED}" opacity="0.07"><title>the monitor was away from its '
          f"broker: nothing could be seen here</title></rect>")
    return "\n".join([*head, *c.out, "</svg>", ""])
