"""The subscriber: subscribes to `pico/+/#` (QoS 1) and hands every message, as a `Record`, to one sink
until stopped, out of time, or the connection is gone for good.

"Subscribed" means the broker's SUBACK arrived: only then is `on_subscribed` called. Retained
messages the broker replays on subscribe arrive after it, with their retain flag set. After a lost
connection the link reconnects and subscribes again, for at most `reconnect_for` seconds; then the
subscriber gives up with a `BrokerError`. With a named `session` the connection is persistent: the
broker queues QoS 1 messages while the subscriber is away and delivers them when it is back. `tick`
is called from the owner's thread about every `TICK_S` seconds (the live checker's clock).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from monitor.errors import BrokerError, MonitorError
from monitor.mqtt import CONNECT_TIMEOUT, Link
from monitor.record import Record

TOPIC = "pico/+/#"
RECONNECT_FOR = 10.0
TICK_S = 0.1
"""How often the waiting loop looks at the stop flag (a signal handler may only set a plain flag)."""

ENDED_STOPPED = "stopped"
ENDED_TIME = "time is up"


class Subscriber:
    """Feeds every message under `topic` to `sink` (called on paho's thread, one message at a time)."""

    def __init__(self, broker: str, sink: Callable[[Record], None], *, topic: str = TOPIC,
                 reconnect_for: float = RECONNECT_FOR, notice: Callable[[str], None] | None = None,
                 session: str | None = None, tick: Callable[[], None] | None = None) -> None:
        self.broker = broker
        self.topic = topic
        self.session = session
        self._tick = tick
        self.reconnect_for = reconnect_for
        self._sink = sink
        self._notice = notice or (lambda text: None)
        self._stop = False
        self._wake = threading.Event()

    def stop(self) -> None:
        """Ask `run()` to end. Safe to call from a signal handler (sets a plain flag, takes no lock)."""
        self._stop = True

    def run(self, duration: float | None = None, on_subscribed: Callable[[], None] | None = None,
            connect_timeout: float = CONNECT_TIMEOUT) -> str:
        """Subscribe and deliver until `stop()` or `duration` seconds after the SUBACK; says which ended it.

        Raises `BrokerError` when the broker cannot be reached or stays away longer than `reconnect_for`,
        and re-raises (as a `MonitorError`) whatever the sink raised.
        """
        link = Link(self.broker, "monitor-rec", on_record=self._sink, on_change=self._wake.set, reconnect=True,
                    session=self.session)
        try:
            if self.session is not None:
                link.expect(self.topic, qos=1)
            link.connect(connect_timeout)
            link.subscribe(self.topic, qos=1, timeout=connect_timeout)
            if on_subscribed is not None:
                on_subscribed()
            deadline = None if duration is None else time.monotonic() + duration
            lost_at: float | None = None
            connects = link.connects
            while True:
                if self._tick is not None:
                    self._tick()
                if self._stop:
                    return ENDED_STOPPED
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    return ENDED_TIME
                if link.failure is not None:
                    failure = link.failure
                    raise failure if isinstance(failure, MonitorError) else MonitorError(
                        f"recording failed: {type(failure).__name__}: {failure}")
                lost = link.lost
                if lost is not None and lost_at is None:
                    lost_at = now
                    self._notice(f"{lost}; reconnecting for up to {self.reconnect_for:g} s")
                if lost is None and link.connects > connects:
                    lost_at, connects = None, link.connects
                    self._notice(f"reconnected to {link.address} and subscribed again to {self.topic}")
                if lost_at is not None and now - lost_at > self.reconnect_for:
                    raise BrokerError(f"{lost}; not back within {self.reconnect_for:g} s")
                wait = TICK_S if deadline is None else min(TICK_S, max(0.0, deadline - now))
                self._wake.wait(wait)
                self._wake.clear()
        finally:
            link.close()
