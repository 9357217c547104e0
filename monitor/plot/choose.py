"""Which devices a timeline draws. A recording of 10,000 devices cannot be drawn whole (nor read at a
glance): the ones asked for with `--device`, in that order; else the devices with findings first (most
errors first, then most notes), then the others in the order they first appear, up to `limit`.
"""

from __future__ import annotations

from collections.abc import Sequence

from monitor import findings as F
from monitor.errors import UsageError

MAX_DRAWN = 12
"""Devices drawn at most by default (`--max-devices`)."""


def choose(devices: Sequence[F.DeviceReport], asked: Sequence[str] = (), limit: int = MAX_DRAWN) -> list[str]:
    """The device ids to draw, in drawing order. `UsageError` for an asked device the recording lacks."""
    if asked:
        known = {d.device for d in devices}
        missing = [d for d in asked if d not in known]
        if missing:
            some = ", ".join(d.device for d in devices[:5]) + (", ..." if len(devices) > 5 else "")
            raise UsageError(f"no device {missing[0]!r} in the recording (it has {len(devices)}: {some or 'none'})")
        return list(dict.fromkeys(asked))

    def rank(item: tuple[int, F.DeviceReport]) -> tuple[int, int, int]:
        order, dev = item
        errors = sum(e for _, e in dev.tally.values())
        notes = sum(n for n, _ in dev.tally.values()) - errors
        return (-errors, -notes, order)

    return [dev.device for _, dev in sorted(enumerate(devices), key=rank)[:limit]]
