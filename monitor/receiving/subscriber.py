"""The subscriber (in the receiver process): subscribes to `pico/+/#` (QoS 1) and hands every message, as a `Record`, to one sink
until stopped or out of time (or, when asked for a limit, the connection is gone for too long).

It runs on the caller's thread: the MQTT connection is pumped there (`Link(own_loop=True)`), so the
sink, the `tick` and the bookkeeping take turns with paho and nothing competes for the interpreter.

"Subscribed" means the broker's SUBACK arrived: only then is `on_subscribed` called. Retained
messages the broker replays on subscribe arrive after it, with their retain flag set. After a lost
connection the link reconnects (1, then 2 s apart: `monitor.mqtt.Link.pump`) and subscribes again, for as
long as it takes: a broker restarted is a broker back, and the recording goes on. Only with a
`reconnect_for` (`--reconnect-for`) does the subscriber give up, with a `BrokerError`, once the broker has
been away that long. With a named `session` the connection is persistent: the
broker queues QoS 1 messages while the subscriber is away and delivers them when it is back.

`mark(event, reason)` is called when the connection is lost (`disconnected`) and when it is back and
subscribed again (`reconnected`): the receiver writes these in the recording (the monitor's own absences).
The subscriber also asks for `$SYS/broker/publish/messages/dropped` (Mosquitto's count of messages it
dropped), at QoS 0; a broker that refuses is only said (`notice`).

`tick(now)` is called at every turn (`now` is `time.monotonic()`) and returns when it wants to be
called next at the latest (None: no wish; it is called at least every `TICK_S` seconds anyway).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from monitor.errors import BrokerError, MonitorError
from monitor.mqtt import CONNECT_TIMEOUT, Link, Security
from monitor.record import Record

TOPIC = "pico/+/#"
BROKER_DROPPED = "$SYS/broker/publish/messages/dropped"
RECONNECT_FOR: float | None = None
"""No limit by default: keep reconnecting until stopped."""
TICK_S = 0.1
"""The longest a turn waits: how soon a `stop()` (from a signal handler or another thread) is seen."""

ENDED_STOPPED = "stopped"
ENDED_TIME = "time is up"


class Subscriber:
    """Feeds every message under `topic` to `sink`, on the thread that calls `run()`."""

    def __init__(self, broker: str, sink: Callable[[Record], None], *, topic: str = TOPIC,
                 reconnect_for: float | None = RECONNECT_FOR, notice: Callable[[str], None] | None = None,
                 session: str | None = None, tick: Callable[[float], float | None] | None = None,
                 mark: Callable[[str, str], None] | None = None, security: Security | None = None) -> None:
        self.broker = broker
        self.security = security
        self.topic = topic
        self.session = session
        self._tick = tick
        self._mark = mark or (lambda event, reason: None)
        self.reconnect_for = reconnect_for
        self._sink = sink
        self._notice = notice or (lambda text: None)
        self._stop = False
        self._changed = True

    def stop(self) -> None:
        """Ask `run()` to end. Safe from a signal handler or another thread (sets a plain flag)."""
        self._stop = True

    def _change(self) -> None:
        self._changed = True

    def run(self, duration: float | None = None, on_subscribed: Callable[[], None] | None = None,
            connect_timeout: float = CONNECT_TIMEOUT) -> str:
        """Subscribe and deliver until `stop()` or `duration` seconds after the SUBACK; says which ended it.

        Raises `BrokerError` when the broker cannot be reached at first, or (with a `reconnect_for`) stays
        away longer than that after a loss,
        and re-raises (as a `MonitorError`) whatever the sink raised.
        """
        link = Link(self.broker, "monitor-rec", on_record=self._sink, on_change=self._change, reconnect=True,
                    session=self.session, own_loop=True, security=self.security)
        try:
            if self.session is not None:
                link.expect(self.topic, qos=1)
            link.connect(connect_timeout)
            link.subscribe(self.topic, qos=1, timeout=connect_timeout)
            if self.topic == TOPIC:
                try:
                    link.subscribe(BROKER_DROPPED, qos=0, timeout=connect_timeout)
                except BrokerError as exc:
                    self._notice(f"{exc}: the broker's count of dropped messages will not be watched")
            if on_subscribed is not None:
                on_subscribed()
            return self._serve(link, duration)
        finally:
            link.close()

    def _serve(self, link: Link, duration: float | None) -> str:
        deadline = None if duration is None else time.monotonic() + duration
        lost_at: float | None = None
        connects = link.connects
        look_at = 0.0
        tick = self._tick
        while True:
            if self._stop:
                return ENDED_STOPPED
            now = time.monotonic()
            wake = now + TICK_S
            if tick is not None:
                wanted = tick(now)
                if wanted is not None and wanted < wake:
                    wake = wanted
            if deadline is not None:
                if now >= deadline:
                    return ENDED_TIME
                wake = min(wake, deadline)
            if self._changed or now >= look_at:  # the bookkeeping: every TICK_S, or when the link changed
                self._changed = False
                look_at = now + TICK_S
                if link.failure is not None:
                    failure = link.failure
                    raise failure if isinstance(failure, MonitorError) else MonitorError(
                        f"recording failed: {type(failure).__name__}: {failure}")
                lost = link.lost
                if lost is not None and lost_at is None:
                    lost_at = now
                    self._mark("disconnected", lost)
                    limit = "until it is back" if self.reconnect_for is None else \
                        f"for up to {self.reconnect_for:g} s"
                    self._notice(f"{lost}; reconnecting {limit}")
                if lost is None and link.connects > connects:
                    away = now - lost_at if lost_at is not None else 0.0
                    lost_at, connects = None, link.connects
                    self._mark("reconnected", f"reconnected to {link.address}")
                    self._notice(f"reconnected to {link.address} after {away:.0f} s and subscribed again to "
                                 f"{self.topic}")
                if lost_at is not None and self.reconnect_for is not None and now - lost_at > self.reconnect_for:
                    raise BrokerError(f"{lost}; not back within {self.reconnect_for:g} s")
            link.pump(max(0.0, wake - now))
