"""Where the fleet's messages go: to a broker (`publish`, one paho client, QoS 1 by default, many in
flight) or straight into a recording (`write`, with arrival times as if received at `rate` per second).

A fleet publishes its devices' `status` and `state` retained, as nodes do, and the broker would keep them
(and replay them to every later client) long after the fleet is gone. So `publish` clears each retained
topic it used when it ends, however it ends (its count reached, `--for`, Ctrl-C): an empty retained message
on each, after everything else.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt

from monitor import recording
from monitor.errors import BrokerError, RecordingError
from monitor.fleet import Fleet, Publication, pace
from monitor.mqtt import CONNECT_TIMEOUT, Security, parse_broker
from monitor.record import Record

INFLIGHT = 1000
DRAIN_S = 30.0
"""How long, at most, to wait for the broker to acknowledge what was published."""


@dataclass(frozen=True)
class Published:
    """What `publish` did: messages published, retained topics cleared at the end, whether Ctrl-C stopped it."""

    count: int
    cleared: int
    interrupted: bool


def publish(fleet: Fleet, broker: str, count: int, *, rate: float = 0.0, duration: float | None = None,
            qos: int = 1, notice: Callable[[str], None] | None = None,
            security: Security | None = None) -> Published:
    """Publish the fleet's messages (about `count`) to `broker`, then clear the retained topics it used.
    A KeyboardInterrupt (Ctrl-C) stops the publishing, not the clearing."""
    host, port = parse_broker(broker)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"fleet-{time.monotonic_ns() % 10**9}",
                         protocol=mqtt.MQTTv311)
    client.max_inflight_messages_set(INFLIGHT)
    client.max_queued_messages_set(0)
    (security or Security()).apply(client)
    connected = []

    def on_connect(c: mqtt.Client, userdata: object, flags: object, reason: mqtt.ReasonCode, props: object) -> None:
        sock = c.socket()
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connected.append(not reason.is_failure)

    client.on_connect = on_connect
    try:
        client.connect(host, port, keepalive=30)
    except OSError as exc:
        raise BrokerError(f"cannot reach the broker at {host}:{port}: {exc.strerror or exc}") from None
    client.loop_start()
    try:
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while not connected and time.monotonic() < deadline:
            time.sleep(0.01)
        if connected == [False]:
            raise BrokerError(f"the broker at {host}:{port} refused the connection (--user and its password?)")
        if connected != [True]:
            raise BrokerError(f"no CONNACK from the broker at {host}:{port}")
        last: list[mqtt.MQTTMessageInfo] = []
        retained: dict[str, None] = {}  # the retained topics used, in order
        sent = [0]

        def send(pub: Publication) -> None:
            if pub.retain:  # noted first: a Ctrl-C inside publish() may come after the message went out
                retained[pub.topic] = None
            info = client.publish(pub.topic, pub.payload, qos=qos, retain=pub.retain)
            sent[0] += 1
            if last:
                last[0] = info
            else:
                last.append(info)

        until = None if duration is None else time.monotonic() + duration
        interrupted = False
        try:
            pace(fleet.publications(count), rate, send, until)
        except KeyboardInterrupt:
            interrupted = True
        # Cleared after everything it published (one connection: the broker takes them in order), at QoS 1
        # so that the last PUBACK says all are done.
        for topic in retained:
            info = client.publish(topic, b"", qos=1, retain=True)
            if last:
                last[0] = info
            else:
                last.append(info)
        if last:
            last[0].wait_for_publish(DRAIN_S)
            if not last[0].is_published() and notice is not None:
                notice(f"fleet: the broker did not acknowledge everything within {DRAIN_S:g} s")
        return Published(sent[0], len(retained), interrupted)
    finally:
        client.disconnect()
        client.loop_stop()


def write(fleet: Fleet, out: str | Path, count: int, *, rate: float = 0.0, t0: float | None = None) -> int:
    """Write the fleet's messages as a recording, as if received at `rate` per second (0: 10,000)."""
    step = 1.0 / (rate if rate > 0 else 10_000.0)
    t = time.time() if t0 is None else t0
    n = 0
    try:
        with open(out, "ab", buffering=1 << 20) as f:
            for pub in fleet.publications(count):
                f.write(recording.encode(Record(round(t, 6), pub.topic, 1, False, pub.payload)))
                t += step
                n += 1
    except OSError as exc:
        raise RecordingError(f"cannot write {out}: {exc.strerror or exc}") from None
    return n
