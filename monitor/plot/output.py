"""Where a timeline goes and in which format: `.html` (the SVG inline, a little CSS, the witnesses as hover
text), `.svg` (the same drawing, standalone) or `.png` (that SVG rasterized by resvg, from the `resvg-py`
wheel: no Cairo, no browser; it draws text with the system's fonts).

Without `-o` the timeline goes beside its recording, as HTML: `recordings/x.jsonl` -> `recordings/x.html`
(it belongs with that recording, and plotting another never overwrites it).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from monitor.errors import MonitorError, UsageError

FORMATS = (".html", ".svg", ".png")

STYLE = """
body { margin: 0; background: #fff; }
svg { display: block; }
.finding, .step, .command, .run, .away { cursor: help; }
.finding:hover text { font-weight: bold; }
.finding:hover path, .finding:hover circle { stroke: #000; stroke-width: 1.5; }
.step:hover circle, .command:hover circle { stroke: #000; stroke-width: 1.5; }
"""


def default_path(recording: str | Path) -> Path:
    """The recording's path with `.html` for its suffix (`.timeline.html` added if that is the recording)."""
    rec = Path(recording)
    out = rec.with_suffix(".html")
    return out if out != rec else rec.with_name(rec.name + ".timeline.html")


def output_format(path: str | Path) -> str:
    """`.html`, `.svg` or `.png`, from the name; `UsageError` for any other."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"cannot write {path}: unknown format {suffix or '(no extension)'!r} "
                         f"(use {', '.join(FORMATS[:-1])} or {FORMATS[-1]})")
    return suffix


def html(svg: str, title: str) -> str:
    """A page holding `svg` inline: it works offline, from a file, with nothing else to load."""
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n<title>{escape(title)}</title>\n'
            f"<style>{STYLE}</style></head>\n<body>\n{svg}</body></html>\n")


def png(svg: str) -> bytes:
    """`svg` as PNG bytes, at its own size in pixels, on white."""
    try:
        import resvg_py
    except ImportError:
        raise MonitorError("a PNG needs the resvg-py package (pip install resvg-py); "
                           "or write .html or .svg") from None
    try:
        return bytes(resvg_py.svg_to_bytes(svg_string=svg, background="#ffffff"))
    except ValueError as exc:
        raise MonitorError(f"cannot draw the PNG: {exc}") from None


def render(svg: str, fmt: str, title: str) -> bytes:
    if fmt == ".png":
        return png(svg)
    return (html(svg, title) if fmt == ".html" else svg).encode("utf-8")


def write(path: str | Path, data: bytes) -> None:
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        raise MonitorError(f"cannot write {path}: {exc.strerror or exc}") from None
