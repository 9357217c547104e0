"""The MQTT link: the one owner of the umqtt.simple client. No other task touches it.

It connects (Last Will registered first), subscribes to the command topic, announces itself online,
then runs two coroutines of its own until the connection fails:
- the reader parks on the socket (asyncio's poller, no polling loop) and lets the client read one
  packet when bytes arrive; commands go from the client's callback into the inbox;
- the writer sends the outbox in order, stamping `boot`, `sess` and `seq` as each message first goes
  out, and pings when it has been quiet for a third of the keepalive.
Each umqtt call is synchronous and the two coroutines only switch at awaits, so they never interleave
inside a call. A QoS 1 publish waits for its PUBACK inside the call; TCP_NODELAY keeps that wait to a
round trip instead of a delayed-ACK timer.
"""

import asyncio
import json
import socket
from asyncio import core as _core

from umqtt.simple import MQTTClient, MQTTException

from clock import uptime_ms
from log import log

# The unix port lacks the names; these are Linux's numbers. The Pico's lwIP has the names.
_IPPROTO_TCP = getattr(socket, "IPPROTO_TCP", 6)
_TCP_NODELAY = getattr(socket, "TCP_NODELAY", 1)

# What umqtt.simple raises when a connection breaks: OSError from the socket, MQTTException for a
# refused CONNECT or SUBSCRIBE, AssertionError for a reply it did not expect, IndexError or TypeError
# when a read comes back empty or None in the middle of a packet.
LINK_ERRORS = (OSError, MQTTException, AssertionError, IndexError, TypeError)

_RETAINED = ("status", "state")


async def _readable(sock):
    # Park this task in asyncio's poller until the socket has bytes (or an error) to report.
    yield _core._io_queue.queue_read(sock)


class Link:
    def __init__(self, cfg, device_id, boot, outbox, inbox, wake):
        prefix = "%s/%s/" % (cfg.TOPIC_PREFIX, device_id)
        self._topics = {}
        for kind in ("status", "state", "event", "ack"):
            self._topics[kind] = (prefix + kind).encode()
        self._cmd_topic = (prefix + "cmd").encode()
        self.cfg = cfg
        self.device_id = device_id
        self.boot = boot
        self.outbox = outbox
        self.inbox = inbox
        self.wake = wake            # set when the outbox has something new
        self.on_up = None           # called after each successful connect
        self.client = None
        self.up = False
        self.sess = 0
        self.seq = 0
        self.ignored = 0            # messages on topics we do not own (amqtt replays retained ones)
        self._down = asyncio.Event()
        self._failure = None
        self._last_rx = 0
        self._last_tx = 0

    # --- one message out -------------------------------------------------------------------------

    def _publish(self, kind, body):
        if "seq" not in body:
            # Stamped once, when first sent: seq order is publish order, and a resend keeps its seq.
            self.seq += 1
            body["seq"] = self.seq
            body["boot"] = self.boot
            body["sess"] = self.sess
        # umqtt.simple takes retain BEFORE qos.
        self.client.publish(self._topics[kind], json.dumps(body), kind in _RETAINED, 1)
        self._last_tx = self._last_rx = uptime_ms()   # a QoS 1 publish returned: its PUBACK came

    def _on_message(self, topic, msg):
        # Runs inside a client call: only hand the raw payload over, never work here.
        if topic == self._cmd_topic:
            self.inbox.put(msg)
        else:
            self.ignored += 1

    # --- connection lifecycle --------------------------------------------------------------------

    def _connect(self):
        cfg = self.cfg
        sess = self.sess + 1
        c = MQTTClient(self.device_id, cfg.BROKER_HOST, cfg.BROKER_PORT, cfg.BROKER_USER,
                       cfg.BROKER_PASSWORD, cfg.KEEPALIVE_S)
        c.set_callback(self._on_message)
        c.set_last_will(self._topics["status"],
                        json.dumps({"online": False, "boot": self.boot, "sess": sess}), True, 1)
        self.client = c
        c.connect()
        c.sock.setsockopt(_IPPROTO_TCP, _TCP_NODELAY, 1)
        c.sock.settimeout(cfg.SOCKET_TIMEOUT_S)
        self.sess = sess
        c.subscribe(self._cmd_topic, 1)
        self._last_rx = uptime_ms()
        self._publish("status", {"online": True, "id": self.device_id, "fw": cfg.FIRMWARE,
                                 "ts": uptime_ms()})

    def _close(self):
        if self.client is not None and self.client.sock is not None:
            try:
                self.client.sock.close()
            except OSError:
                pass
        self.client = None

    async def _reader(self):
        sock = self.client.sock
        while True:
            await _readable(sock)
            self.client.check_msg()
            # check_msg leaves the socket blocking; on the Pico's lwIP that also clears the timeout.
            sock.settimeout(self.cfg.SOCKET_TIMEOUT_S)
            self._last_rx = uptime_ms()

    async def _writer(self):
        keepalive_ms = self.cfg.KEEPALIVE_S * 1000
        while True:
            entry = self.outbox.peek()
            while entry is not None:
                self._publish(entry[0], entry[1])
                self.outbox.pop()
                await asyncio.sleep_ms(0)
                entry = self.outbox.peek()
            now = uptime_ms()
            if now - self._last_rx > keepalive_ms * 3 // 2:
                raise OSError("no answer from the broker for %d ms" % (now - self._last_rx))
            quiet_ms = keepalive_ms // 3 - (now - self._last_tx)
            if quiet_ms <= 0:
                self.client.ping()
                self._last_tx = now
                continue
            self.wake.clear()   # no await since the outbox was found empty: nothing slipped in
            try:
                await asyncio.wait_for_ms(self.wake.wait(), quiet_ms)
            except asyncio.TimeoutError:
                pass

    async def _guard(self, coro):
        try:
            await coro
        except LINK_ERRORS as e:
            self._failure = e
            self._down.set()

    async def run(self):
        cfg = self.cfg
        backoff = cfg.RECONNECT_MIN_MS
        while True:
            try:
                self._connect()
            except LINK_ERRORS as e:
                log("mqtt", "connect to %s:%d failed: %r; retrying in %d ms"
                    % (cfg.BROKER_HOST, cfg.BROKER_PORT, e, backoff))
                self._close()
                await asyncio.sleep_ms(backoff)
                backoff = min(backoff * 2, cfg.RECONNECT_MAX_MS)
                continue
            backoff = cfg.RECONNECT_MIN_MS
            self.up = True
            log("mqtt", "connected to %s:%d as %s, session %d"
                % (cfg.BROKER_HOST, cfg.BROKER_PORT, self.device_id, self.sess))
            if self.on_up:
                self.on_up()
            self._down.clear()
            tasks = (asyncio.create_task(self._guard(self._reader())),
                     asyncio.create_task(self._guard(self._writer())))
            await self._down.wait()
            for t in tasks:
                t.cancel()
            self.up = False
            log("mqtt", "link down: %r" % (self._failure,))
            self._close()
            await asyncio.sleep_ms(backoff)

    def stop(self):
        """A clean stop: say offline ourselves (the broker then drops the Last Will) and disconnect."""
        if not self.up:
            return
        self.up = False
        try:
            self._publish("status", {"online": False, "ts": uptime_ms()})
            self.client.disconnect()
        except LINK_ERRORS as e:
            log("mqtt", "clean stop failed: %r" % (e,))
        self._close()
