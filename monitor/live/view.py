"""The live view of `watch` (in the `record`/`watch` process): one table row per device (state, LED, mode, buttons, temperature, online,
last seen, counts of each finding) and the newest findings under it. Read-only over what the checker
keeps (`Device`, `Finding`); `rows()` and `render()` are pure, so tests render to text.

With more devices than fit, the ones with errors come first, then the most recently heard from.

While the broker is gone (`gone`: since when), no device's `online` is known: each shows `unknown`. After
it is back, a device not heard from since the loss (`unknown_before`) still does: its last word predates
the outage. The device `selected` with the keys is shown reversed, and `note` (its last command's ack)
under the table.

Every cell holds what some client published, so none is trusted to be short or plain: each is a
`Text` (never rich markup, which a payload could forge or break), made `printable()` (no control
characters reach the terminal) and `cut()` to its column's width, so one long device id cannot push
the other columns off a 100-column screen.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from monitor import findings as F
from monitor.checker import Device
from monitor.report import clock, label
from monitor.text import cut, printable

DEVICE_WIDTH = 21
"""The device column's width at most: a Pico's own id (`pico-` and 16 hex digits) fits; a longer id keeps
its start and end (`cut()`)."""
VALUE_WIDTH = 6
"""Other cells that show a payload's value (`ver`, `led`, `mode`) at most."""
BOOT_WIDTH = 8
"""A boot id is 8 hex digits (protocol.md); a longer one is cut to that."""

SHORT = {F.LOST: "lost", F.DUPLICATE: "dup", F.REORDERED: "reord", F.REBOOT: "reboot", F.RECONNECT: "reconn",
         F.DROPPED_ON_DEVICE: "dropped", F.INCONSISTENT: "incons", F.UNACKED: "unacked", F.SILENT: "silent",
         F.MALFORMED: "malf"}


@dataclass(frozen=True)
class Row:
    """What one device's row shows (plain values, copied out under the session's lock)."""

    device: str
    online: bool | None
    boot: str | None
    sess: int | None
    ver: Any
    led: Any
    lit: Any
    mode: Any
    buttons: str
    presses: str
    temp_c: Any
    last_seen: float | None
    messages: int
    findings: Mapping[str, tuple[int, int]]
    errors: int


def _bits(value: Any) -> str:
    if not isinstance(value, Mapping):
        return "?"
    return " ".join(f"{k}{'●' if value.get(k) is True else '○' if value.get(k) is False else '?'}" for k in ("a", "b"))


def _counts(value: Any) -> str:
    if not isinstance(value, Mapping):
        return "?"
    return "/".join(str(value.get(k, "?")) for k in ("a", "b"))


def row(dev: Device) -> Row:
    v = dev.view
    track = dev.current
    errors = sum(e for _, e in dev.tally.values())
    return Row(device=dev.name, online=dev.online, boot=track.boot if track else None,
               sess=track.sess_max if track else None, ver=v.get("ver"), led=v.get("led"), lit=v.get("lit"),
               mode=v.get("mode"), buttons=_bits(v.get("buttons")), presses=_counts(v.get("presses")),
               temp_c=v.get("temp_c"), last_seen=dev.last_seen, messages=dev.messages,
               findings={k: (n, e) for k, (n, e) in dev.tally.items()}, errors=errors)


def rows(devices: Mapping[str, Device], limit: int) -> tuple[list[Row], int]:
    """The rows to show (at most `limit`) and how many devices there are in all."""
    chosen = sorted(devices.values(), key=lambda d: (-(sum(e for _, e in d.tally.values()) > 0),
                                                     -(d.last_seen or 0.0), d.name))[:limit]
    return sorted((row(d) for d in chosen), key=lambda r: (r.errors == 0, r.device)), len(devices)


def _age(now: float, t: float | None) -> str:
    if t is None:
        return "-"
    age = max(0.0, now - t)
    return f"{age:.1f}s" if age < 60 else f"{age / 60:.0f}m" if age < 3600 else f"{age / 3600:.0f}h"


def _cell(value: Any, width: int, style: str = "") -> Text:
    """A table cell for `value` from the network: plain text, printable, at most `width` characters."""
    return Text(cut(printable(str(value)), width), style=style)


def _led(policy: Any, lit: Any) -> Text:
    """The LED's policy and whether it is lit: `auto ●`."""
    shown = {1: "●", 0: "○"}.get(lit, "-") if isinstance(lit, int) else "-"
    return Text(f"{cut(printable(str(policy or '-')), 4)} {shown}")


def _findings_cell(found: Mapping[str, tuple[int, int]]) -> Text:
    text = Text()
    for kind in F.KINDS:
        if kind not in found:
            continue
        n, errors = found[kind]
        if text:
            text.append(" ")
        text.append(f"{SHORT[kind]} {n}", style="bold red" if errors else "dim")
    return text or Text("-", style="green")


def online_cell(r: Row, gone: float | None = None, unknown_before: float | None = None) -> Text:
    """`online`, `OFFLINE`, `?` (never said), or `unknown` (its word predates the broker's loss)."""
    if gone is not None or (unknown_before is not None and (r.last_seen is None or r.last_seen < unknown_before)):
        return Text("unknown", style="dim yellow")
    if r.online:
        return Text("online", style="green")
    return Text("OFFLINE", style="bold yellow") if r.online is False else Text("?", style="dim")


def render(shown: Iterable[Row], total: int, recent: Iterable[F.Finding], *, now: float | None = None,
           title: str = "", status: str = "", recent_lines: int = 5, gone: float | None = None,
           unknown_before: float | None = None, selected: str | None = None, note: Text | None = None) -> Group:
    """The whole screen: the device table, then the newest findings."""
    now = time.time() if now is None else now
    # One space between columns and no vertical rules: the whole row fits 100 columns.
    table = Table(title=title or None, title_justify="left", expand=False, box=box.SIMPLE_HEAD, padding=0,
                  show_edge=False, pad_edge=False)
    for name, justify in (("device", "left"), ("online", "left"), ("boot/sess", "left"), ("ver", "right"),
                          ("led", "left"), ("mode", "left"), ("buttons", "left"),
                          ("presses", "right"), ("temp", "right"), ("seen", "right"), ("msgs", "right"),
                          ("findings", "left")):
        wraps = name == "findings"
        table.add_column(name, justify=justify, no_wrap=not wraps, min_width=8 if wraps else None,
                         max_width=DEVICE_WIDTH if name == "device" else None)  # type: ignore[arg-type]
    count = 0
    for r in shown:
        count += 1
        online = online_cell(r, gone, unknown_before)
        temp = f"{r.temp_c:.1f}°C" if isinstance(r.temp_c, (int, float)) and r.temp_c == r.temp_c else "-"
        boot = cut(printable(str(r.boot or "-")), BOOT_WIDTH)
        style = "bold red" if r.errors else ""
        if r.device == selected:
            style = (style + " reverse").strip()
        table.add_row(_cell(r.device, DEVICE_WIDTH, style), online,
                      Text(f"{boot}/{r.sess if r.sess is not None else '-'}"),
                      _cell(r.ver if r.ver is not None else "-", VALUE_WIDTH), _led(r.led, r.lit),
                      _cell(r.mode or "-", VALUE_WIDTH), _cell(r.buttons, 7), _cell(r.presses, 11),
                      _cell(temp, 9), _age(now, r.last_seen), str(r.messages), _findings_cell(r.findings))
    parts: list[Any] = [table]
    if note is not None:
        parts.append(note)
    if total > count:
        parts.append(Text(f"... and {total - count} more device(s) not shown", style="dim"))
    latest = list(recent)[-recent_lines:]
    if latest:
        parts.append(Text("newest findings:", style="bold"))
        for f in latest:
            line = Text(f"  {clock(f.t)} {cut(printable(f.device or '-'), DEVICE_WIDTH)} ")
            line.append(label(f), style="bold red" if f.error else "dim")
            line.append(f": {printable(f.detail)}")
            line.truncate(500)  # (a detail may quote a payload: a line, not a screenful)
            parts.append(line)
    if status:
        parts.append(Text(status, style="dim"))
    return Group(*parts)
