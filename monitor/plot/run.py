"""The `plot` command: check the recording (the findings, and which devices have them), choose the devices
to draw, read the recording again keeping only their messages, and write the drawing. The recording is
streamed both times: a recording of 10,000 devices costs the checker's memory, not the file's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from monitor import checker, recording
from monitor.errors import MonitorError, RecordingError, UsageError
from monitor.plot import output, svg
from monitor.plot.choose import MAX_DRAWN, choose
from monitor.plot.lanes import Builder, Timeline


def timeline(path: str | Path, devices: Sequence[str] = (), max_devices: int = MAX_DRAWN, *,
             reorder_timeout: float = checker.REORDER_TIMEOUT,
             command_timeout: float = checker.COMMAND_TIMEOUT) -> Timeline:
    """The timeline of the recording at `path`. `UsageError` when it cannot be read or lacks an asked
    device; `MonitorError` when it holds no device message at all."""
    try:
        result = checker.check(recording.iter_items(path), reorder_timeout=reorder_timeout,
                               command_timeout=command_timeout)
        if not result.devices:
            raise MonitorError(f"{path}: no device messages to plot ({result.lines} line(s))")
        chosen = choose(result.devices, devices, max_devices)
        wanted = set(chosen)
        builder = Builder(str(path), chosen, [f for f in result.all_findings() if f.device in wanted or f.device is None],
                          {d.device: dict(d.tally) for d in result.devices if d.device in wanted})
        items = recording.iter_items(path)
        for number, line in items.lines():
            fields = recording.text_fields(line)
            if fields is not None:  # the common case, without building a Record
                t, topic, retained, text, _ = fields
                builder.record(number, t, topic, retained, text)
            else:
                builder.feed(number, recording.decode_item(number, line))
    except RecordingError as exc:
        raise UsageError(str(exc)) from None
    tl = builder.finish()
    tl.total_devices = len(result.devices) + result.untracked_devices
    tl.with_findings = sum(1 for d in result.devices if not d.ok)
    return tl


def plot(path: str | Path, out: str | Path | None = None, devices: Sequence[str] = (),
         max_devices: int = MAX_DRAWN, **timeouts: float) -> tuple[Path, Timeline]:
    """Draw the recording at `path` into `out` (default: beside it, `.html`); the file written and what it shows."""
    target = Path(out) if out is not None else output.default_path(path)
    fmt = output.output_format(target)  # (a bad name fails before the recording is read)
    tl = timeline(path, devices, max_devices, **timeouts)
    drawing = svg.render(tl)
    output.write(target, output.render(drawing, fmt, f"timeline of {path}"))
    return target, tl
