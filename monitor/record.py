"""The one plain value a received MQTT message becomes: `Record`.

paho's message objects are converted into a `Record` once, where they enter (`monitor.mqtt`); everything
downstream (the recording, the per-message line, the checker) sees only `Record`s.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Record:
    """One MQTT message as the monitor received it.

    `t` is the arrival time (epoch seconds), `retain` the flag the broker delivered it with (set only for
    retained messages replayed on subscribe), `payload` the raw bytes.
    """

    t: float
    topic: str
    qos: int
    retain: bool
    payload: bytes
