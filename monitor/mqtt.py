"""The broker connection: the only module that imports paho.

`parse_broker()` reads `HOST:PORT`; `Link` connects with a deadline (MQTT 3.1.1, TCP_NODELAY), runs
paho's loop (on paho's own thread, or pumped by the owner's thread with `own_loop`), subscribes and
publishes waiting (bounded) for the broker's SUBACK and PUBACK, and disconnects cleanly. Every incoming paho message becomes a `Record` here, once, before any other code
sees it; messages matching none of the link's subscriptions are dropped here (see `Link.strays`).

`Security` is how a client logs in: a user name and password, and TLS verified against a CA file
(certificate and host name). A connection that fails says why in one sentence (`BrokerError`): refused
(bad password, not authorized), an untrusted certificate, a certificate for another host, or TLS and
plain MQTT mixed up. The password never leaves this process except through PICO_MQTT_PASSWORD in the
environment of the monitor's own receiver process (`Security.from_config`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt

from monitor.errors import BrokerError, Refused, UsageError
from monitor.record import Record

DEFAULT_PORT = 1883
DEFAULT_BROKER = f"localhost:{DEFAULT_PORT}"
CONNECT_TIMEOUT = 5.0
_WANTED_CACHE = 100_000
KEEPALIVE_S = 30
RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 2


def parse_broker(text: str) -> tuple[str, int]:
    """`(host, port)` from `HOST`, `HOST:PORT` or `[IPv6]:PORT`; `UsageError` otherwise."""
    text = text.strip()
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise UsageError(f"bad broker address {text!r}: expected [IPV6]:PORT")
        port_text = rest[1:] if rest else str(DEFAULT_PORT)
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    elif ":" not in text:
        host, port_text = text, str(DEFAULT_PORT)
    else:
        raise UsageError(f"bad broker address {text!r}: expected HOST:PORT (IPv6 as [ADDRESS]:PORT)")
    if not host:
        raise UsageError(f"bad broker address {text!r}: no host")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise UsageError(f"bad broker address {text!r}: port must be a number from 1 to 65535")
    return host, int(port_text)


PASSWORD_ENV = "PICO_MQTT_PASSWORD"


@dataclass(frozen=True)
class Security:
    """How to log in: `user` (with `password`) and/or TLS verified against the PEM CA file `tls_ca`."""

    user: str | None = None
    password: str | None = field(default=None, repr=False)
    tls_ca: str | None = None

    def apply(self, client: mqtt.Client) -> None:
        """Set the credentials and TLS on a paho client (before it connects)."""
        if self.user is not None:
            client.username_pw_set(self.user, self.password)
        if self.tls_ca is not None:
            try:
                context = ssl.create_default_context(cafile=self.tls_ca)  # verifies certificate and host name
            except (OSError, ssl.SSLError) as exc:
                reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
                raise BrokerError(f"cannot use {self.tls_ca} as the CA (--tls-ca): {reason}") from None
            client.tls_set_context(context)

    def config(self) -> dict[str, Any]:
        """What a receiver process needs, without the password (that goes in its environment)."""
        return {"user": self.user, "tls_ca": self.tls_ca}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Security:
        user = config.get("user")
        return cls(user=user, password=os.environ.get(PASSWORD_ENV) if user is not None else None,
                   tls_ca=config.get("tls_ca"))


def _tls_failure(exc: ssl.SSLError, address: str, host: str) -> str:
    """One sentence for a failed TLS handshake."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        message = exc.verify_message or str(exc)
        if "hostname" in message.lower() or "ip address mismatch" in message.lower():
            return f"the certificate of the broker at {address} is not for {host!r} ({message})"
        return (f"the certificate of the broker at {address} is not trusted by the CA given with --tls-ca "
                f"({message})")
    reason = exc.reason or exc.strerror or str(exc) or type(exc).__name__
    return f"TLS with the broker at {address} failed ({reason}): is it a TLS port?"


def topic_matches(pattern: str, topic: str) -> bool:
    """Whether `topic` matches the subscription filter `pattern` (`+` and `#` wildcards)."""
    return mqtt.topic_matches_sub(pattern, topic)


def _to_record(message: mqtt.MQTTMessage) -> Record:
    """The one place a paho message is read."""
    try:
        topic = message.topic
    except UnicodeDecodeError:
        topic = bytes(getattr(message, "_topic", b"")).decode("utf-8", "replace")
    return Record(t=time.time(), topic=topic, qos=int(message.qos), retain=bool(message.retain),
                  payload=bytes(message.payload), mono=time.monotonic())


class Link:
    """One MQTT client connection with paho's loop thread.

    `on_record(record)` runs on paho's thread for each message; `on_change()` runs there whenever the
    connection comes or goes (or `on_record` raised: see `failure`). With `reconnect`, the link
    reconnects after a loss (1 to 2 s apart) and subscribes again; whoever owns the link bounds how long
    it waits for that.

    With `own_loop`, no thread is started: the owner's thread runs the connection by calling `pump()`
    (and `connect`, `subscribe`, `publish` pump while they wait), so the callbacks run on the owner's
    thread and nothing competes with it for the interpreter.
    """

    def __init__(self, broker: str, name: str = "monitor", *, on_record: Callable[[Record], None] | None = None,
                 on_change: Callable[[], None] | None = None, reconnect: bool = False,
                 session: str | None = None, own_loop: bool = False, security: Security | None = None) -> None:
        self.host, self.port = parse_broker(broker)
        self.security = security or Security()
        self.own_loop = own_loop
        self._reconnect = reconnect
        self._retry_at = 0.0                      # own loop: when to try reconnecting next
        self._retry_delay = RECONNECT_MIN_S
        self.address = f"{self.host}:{self.port}"
        self._on_record = on_record
        self._on_change = on_change
        self._cond = threading.Condition()
        self._connected = False
        self._refused: str | None = None
        self._lost: str | None = None
        self._subacks: dict[int, list[mqtt.ReasonCode]] = {}
        self._asked: dict[int, tuple[str, int]] = {}  # mid -> the subscription waiting for its SUBACK
        self._subscriptions: list[tuple[str, int]] = []
        self._wanted: dict[str, bool] = {}  # topic -> matches a subscription (filters only ever grow)
        self._closing = False
        self._started = False
        self.failure: BaseException | None = None
        self.strays = 0
        """Messages dropped because they match none of our subscriptions: amqtt 0.12 replays, right after
        CONNACK, the retained messages of every filter any client ever subscribed (docs/monitor.md)."""
        self.connects = 0
        # A named session is persistent (clean session off): the broker keeps the subscription and queues
        # QoS 1 messages while we are away, and hands them over when we come back.
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=session or f"{name}-{secrets.token_hex(4)}",
                             protocol=mqtt.MQTTv311, clean_session=session is None, reconnect_on_failure=reconnect)
        client.reconnect_delay_set(min_delay=RECONNECT_MIN_S, max_delay=RECONNECT_MAX_S)
        client.on_connect = self._connected_cb
        client.on_disconnect = self._disconnected_cb
        client.on_subscribe = self._subscribed_cb
        client.on_message = self._message_cb
        self.security.apply(client)
        self._client = client

    # paho's thread -----------------------------------------------------------------------------
    def _notify(self) -> None:
        if self._on_change is not None:
            try:
                self._on_change()
            except Exception as exc:  # noqa: BLE001 (never kill paho's thread)
                self.failure = exc

    def _connected_cb(self, client: mqtt.Client, userdata: object, flags: object,
                      reason_code: mqtt.ReasonCode, properties: object) -> None:
        if reason_code.is_failure:
            hint = "" if self.security.user is not None else " (no user given: --user)"
            with self._cond:
                self._refused = f"the broker at {self.address} refused the connection: {reason_code}{hint}"
                self._cond.notify_all()
            self._notify()
            return
        try:
            sock = client.socket()
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass  # not a TCP socket (or already gone): latency only
        with self._cond:
            self._connected = True
            self._lost = None
            self.connects += 1
            again = list(self._subscriptions) if self.connects > 1 else []
            self._cond.notify_all()
        for topic, qos in again:  # clean session: a reconnect starts with no subscriptions
            client.subscribe(topic, qos)
        self._notify()

    def _disconnected_cb(self, client: mqtt.Client, userdata: object, flags: object,
                         reason_code: mqtt.ReasonCode, properties: object) -> None:
        with self._cond:
            was = self._connected
            self._connected = False
            if not self._closing:
                # MQTT 3.1.1 has no reason for a disconnection: paho says "Unspecified error" (128) for all
                why = "the broker closed it or went away" if reason_code.value == 128 else str(reason_code)
                self._lost = f"connection to {self.address} lost ({why})" if was else self._lost
            if not was and self.connects == 0 and self._refused is None:
                # closed before any CONNACK: most often plain MQTT sent to a TLS port
                self._refused = (f"the broker at {self.address} closed the connection before answering"
                                 + ("" if self.security.tls_ca else ": is it a TLS port? (then give --tls-ca)"))
            self._cond.notify_all()
        self._notify()

    def _subscribed_cb(self, client: mqtt.Client, userdata: object, mid: int,
                       reason_codes: list[mqtt.ReasonCode], properties: object) -> None:
        with self._cond:
            self._subacks[mid] = list(reason_codes)
            asked = self._asked.pop(mid, None)
            if asked is not None and not any(code.is_failure for code in reason_codes):
                self._accept(asked)  # what follows the SUBACK is ours; what came before it was not
            self._cond.notify_all()

    def _message_cb(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        if self._on_record is None:
            return
        try:
            record = _to_record(message)
            wanted = self._wanted.get(record.topic)
            if wanted is None:
                with self._cond:
                    wanted = any(topic_matches(pattern, record.topic) for pattern, _ in self._subscriptions)
                if len(self._wanted) >= _WANTED_CACHE:
                    self._wanted.clear()
                self._wanted[record.topic] = wanted
            if not wanted:
                self.strays += 1
            if wanted:
                self._on_record(record)
        except Exception as exc:  # noqa: BLE001 (never kill paho's thread; the owner sees `failure`)
            self.failure = exc
            self._notify()

    # the owner's thread ------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        with self._cond:
            return self._connected

    @property
    def lost(self) -> str | None:
        """Why the connection went away (None while connected or after a clean close)."""
        with self._cond:
            return self._lost

    def connect(self, timeout: float = CONNECT_TIMEOUT) -> None:
        """Connect and wait for the CONNACK, at most `timeout` seconds; `BrokerError` when that fails."""
        deadline = time.monotonic() + timeout
        self._client.connect_timeout = max(timeout, 0.1)
        try:
            self._client.connect(self.host, self.port, keepalive=KEEPALIVE_S)
        except ssl.SSLError as exc:
            raise Refused(_tls_failure(exc, self.address, self.host)) from None
        except (OSError, ValueError) as exc:
            if self.security.tls_ca and isinstance(exc, (ConnectionResetError, ConnectionAbortedError)):
                raise Refused(f"TLS with the broker at {self.address} failed ({exc.strerror or exc}): "
                              "is it a TLS port?") from None
            if self.security.tls_ca and isinstance(exc, TimeoutError):  # amqtt's plain port waits, mute
                raise Refused(f"no answer to TLS from the broker at {self.address} within {timeout:g} s: "
                              "is it a plain (non-TLS) port?") from None
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise BrokerError(f"cannot reach the broker at {self.address}: {reason}") from None
        self._started = True
        if not self.own_loop:
            self._client.loop_start()
        self._wait(lambda: self._connected or self._refused is not None, max(0.0, deadline - time.monotonic()))
        with self._cond:
            connected, refused = self._connected, self._refused
        if not connected:
            self.close()
            if refused:
                raise Refused(refused)
            raise BrokerError(f"no answer (CONNACK) from the broker at {self.address} within {timeout:g} s")

    def expect(self, topic: str, qos: int = 1) -> None:
        """Accept messages on `topic` before subscribing: a resumed session's queued messages arrive
        right after the CONNACK, before our own SUBACK."""
        with self._cond:
            self._accept((topic, qos))

    def _accept(self, subscription: tuple[str, int]) -> None:
        """Messages matching `subscription` are wanted from now on (called with the lock held)."""
        if subscription not in self._subscriptions:
            self._subscriptions.append(subscription)
            self._wanted = {}

    def subscribe(self, topic: str, qos: int = 1, timeout: float = CONNECT_TIMEOUT) -> None:
        """Subscribe and wait for the SUBACK; `BrokerError` when refused or not acknowledged in time.
        Messages on `topic` are wanted from the SUBACK on: a broker sends what the subscription brings
        (its retained messages) after it, and amqtt 0.12 sends strays before it (see `strays`)."""
        with self._cond:
            result, mid = self._client.subscribe(topic, qos)
            if result == mqtt.MQTT_ERR_SUCCESS:
                self._asked[mid] = (topic, qos)
        if result != mqtt.MQTT_ERR_SUCCESS:
            raise BrokerError(f"cannot subscribe to {topic}: {mqtt.error_string(result)}")
        if not self._wait(lambda: mid in self._subacks, timeout):
            raise BrokerError(f"no SUBACK for {topic} from {self.address} within {timeout:g} s")
        with self._cond:
            codes = self._subacks.pop(mid)
        if any(code.is_failure for code in codes):
            raise BrokerError(f"the broker at {self.address} refused the subscription to {topic}")

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False,
                timeout: float = CONNECT_TIMEOUT) -> None:
        """Publish and, for QoS > 0, wait for the broker's acknowledgement (at most `timeout` s)."""
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        try:
            if self.own_loop:
                self._wait(info.is_published, timeout)
            else:
                info.wait_for_publish(timeout)
        except (RuntimeError, ValueError) as exc:
            raise BrokerError(f"cannot publish to {topic}: {exc}") from None
        if not info.is_published():
            raise BrokerError(f"the broker at {self.address} did not acknowledge the publish within {timeout:g} s")

    def _wait(self, done: Callable[[], bool], timeout: float) -> bool:
        """Wait until `done()` (checked under the lock), at most `timeout` seconds; whether it came true.
        With an own loop, the connection is pumped meanwhile."""
        if not self.own_loop:
            with self._cond:
                return self._cond.wait_for(done, timeout)
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                if done():
                    return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.pump(min(left, 0.05))

    def pump(self, timeout: float) -> None:
        """Own loop only: one turn of the connection on the caller's thread. Read and write what is
        ready (calling the callbacks), waiting at most `timeout` seconds for something to happen; after
        a loss, with `reconnect`, try again once the delay has passed (1, then 2 s apart)."""
        client = self._client
        if client.socket() is not None:
            if client.loop(timeout) == mqtt.MQTT_ERR_SUCCESS:
                return
            if client.socket() is None:  # lost (paho closed it and called `on_disconnect`)
                self._retry_at = time.monotonic() + self._retry_delay
            return
        if not self._reconnect or self._closing:
            time.sleep(timeout)
            return
        wait = self._retry_at - time.monotonic()
        if wait > 0:
            time.sleep(min(timeout, wait))
            return
        try:
            client.reconnect()  # the TCP connect (bounded by paho's connect_timeout) and CONNECT
            self._retry_delay = RECONNECT_MIN_S
        except (OSError, ValueError):  # (ssl.SSLError is an OSError)
            self._retry_at = time.monotonic() + self._retry_delay
            self._retry_delay = min(self._retry_delay * 2, RECONNECT_MAX_S)

    def close(self) -> None:
        """Disconnect (if connected) and stop paho's thread. Idempotent."""
        with self._cond:
            if self._closing:
                return
            self._closing = True
        with contextlib.suppress(OSError, ValueError):
            self._client.disconnect()
        if self._started and not self.own_loop:
            self._client.loop_stop()

    def __enter__(self) -> Link:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
