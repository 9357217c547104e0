"""The one plain value a received MQTT message becomes: `Record`.

paho's message objects are converted into a `Record` once, where they enter (`monitor.mqtt`); everything
downstream (the recording, the per-message line, the checker) sees only `Record`s.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Record:
    """One MQTT message as the monitor received it.

    `t` is the arrival time (epoch seconds), `mono` the same instant on the monotonic clock
    (`time.monotonic()`: the checker's timers run on it; None in old recordings), `retain` the flag the broker delivered it with (set only for
    retained messages replayed on subscribe), `payload` the raw bytes. Treat it as immutable (it is not
    frozen only because a frozen dataclass costs microseconds to build, on every message).
    """

    t: float
    topic: str
    qos: int
    retain: bool
    payload: bytes
    mono: float | None = None
