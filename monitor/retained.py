"""What a broker holds retained: `collect()` subscribes to some filters and gathers the retained messages
the broker replays, for `devices` and `forget`.

A broker sends a subscription's retained messages right after its SUBACK, one after the other, and then
nothing tells the subscriber that they are all there: MQTT 3.1.1 has no end marker. So collecting ends
after a short quiet period with nothing new (`QUIET_S`), or at an overall deadline (`DEADLINE_S`) when
messages keep coming (a busy fleet publishing live). Only messages flagged retained count: live traffic
during the wait is not what the broker holds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.mqtt import CONNECT_TIMEOUT, Link, Security
from monitor.record import Record

QUIET_S = 0.4
"""Collecting ends this long after the last retained message (or the last SUBACK, when none came)."""
DEADLINE_S = 5.0
"""... and at the latest this long after the last SUBACK."""


@dataclass
class Retained:
    """The retained messages found (topic -> the newest record), and whether the deadline cut it short."""

    messages: dict[str, Record]
    complete: bool


def collect(broker: str, filters: Sequence[str], *, security: Security | None = None, quiet: float = QUIET_S,
            deadline: float = DEADLINE_S, name: str = "monitor-retained") -> Retained:
    """The retained messages `broker` holds on `filters`. `BrokerError` when it cannot be reached or
    refuses a subscription (`Refused`: the login)."""
    cond = threading.Condition()
    found: dict[str, Record] = {}
    last = [time.monotonic()]

    def on_record(record: Record) -> None:
        if not record.retain:
            return
        with cond:
            if record.payload:
                found[record.topic] = record
            else:  # an empty retained message is a deletion (seen only as a broker forwards one live)
                found.pop(record.topic, None)
            last[0] = time.monotonic()
            cond.notify_all()

    with Link(broker, name, on_record=on_record, security=security) as link:
        link.connect(CONNECT_TIMEOUT)
        for topic in filters:
            link.subscribe(topic, qos=1, timeout=CONNECT_TIMEOUT)
        with cond:
            last[0] = time.monotonic()
            end = last[0] + deadline
            while True:
                now = time.monotonic()
                quiet_until = last[0] + quiet
                if now >= quiet_until:
                    complete = True
                    break
                if now >= end:
                    complete = False
                    break
                cond.wait(min(quiet_until, end) - now)
            return Retained(dict(found), complete)
