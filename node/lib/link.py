"""The MQTT link: the one owner of the umqtt.simple client. No other task touches it.

umqtt.simple encodes and sends every packet and parses what arrives (live commands go from its callback
into the inbox; retained ones, replayed by the broker at each subscribe, are ignored), but never waits
for the broker: its calls return once their packet is written (the client's wait_msg is replaced by one
that hands the wait over; `connect` is stopped by the transport, see transport.py), and the link waits
for CONNACK, SUBACK and PUBACKs itself, with asyncio, so nothing here blocks the other tasks, whatever
the network does. One connection, in order:
  dial (TCP, non-blocking, with a deadline) -> CONNECT with the Last Will -> CONNACK -> SUBSCRIBE cmd ->
  SUBACK -> status online -> serve until something fails -> close, back off, again.
While serving, two coroutines of the link run:
- the reader parks on the socket and lets the client read each packet as it arrives; a PUBACK marks
  its outbox entry done; any byte counts as a sign of life;
- the writer sends outbox entries in order (up to MAX_IN_FLIGHT waiting for their PUBACK), stamping
  `boot`, `sess` and `seq` the first time each goes out, pings when it has been quiet for a third of
  the keepalive, and declares the link dead when nothing has come back for a whole keepalive.
The link also goes down when the Wi-Fi watcher says the network is gone. On the way down, in-flight
entries are rewound: they go out again, in order, after the next connect.
"""

import asyncio
import json
import random
import socket

import umqtt.simple as _umqtt
from umqtt.simple import MQTTClient, MQTTException

from backoff import Backoff
from clock import uptime_ms
from log import log
from transport import AnswerPending, Conn, dial, readable

# The unix port lacks the names; these are Linux's numbers. The Pico's lwIP has the names.
_IPPROTO_TCP = getattr(socket, "IPPROTO_TCP", 6)
_TCP_NODELAY = getattr(socket, "TCP_NODELAY", 1)

# What umqtt.simple and the socket raise when a connection breaks: OSError from the socket,
# MQTTException for a refused CONNECT or SUBSCRIBE, AssertionError for a reply it did not expect,
# IndexError or TypeError when a read comes back empty in the middle of a packet.
LINK_ERRORS = (OSError, MQTTException, AssertionError, IndexError, TypeError)

_RETAINED = ("status", "state")
_PUBACK, _SUBACK = 0x40, 0x90
_CONNACK_REFUSED = {1: "unacceptable protocol version", 2: "client id rejected", 3: "server unavailable",
                    4: "bad user name or password", 5: "not authorized"}


class _Handover:
    """Stands in for the socket module inside MQTTClient.connect(), which makes its own socket: it
    hands over the connection the link already made without blocking."""

    def __init__(self, conn):
        self._conn = conn

    def socket(self, *args):
        return self._conn

    def getaddrinfo(self, host, port, *args):
        return [(None, None, None, None, (host, port))]


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
        self.wake = wake            # set when the outbox has something new, or room in flight
        self.on_up = None           # called after each successful connect
        self.client = None
        self.conn = None
        self.up = False
        self.sess = 0
        self.seq = 0
        self.connects = 0
        self.ignored = 0            # messages on topics we do not own (amqtt replays retained ones),
                                    # and retained commands
        self._retained = False      # the packet the client is reading is a PUBLISH flagged retained
        self._addr = None           # the broker's resolved address, kept: DNS lookups block
        self._subscribing = False
        self._down = asyncio.Event()
        self._failure = None
        self._last_rx = 0
        self._last_tx = 0
        self.keepalive_s = cfg.KEEPALIVE_S
        if not 0 < self.keepalive_s < 65536:
            # 0 means "no keepalive" to MQTT, and Mosquitto 2.0.12 and newer refuse it; so would we
            # then never notice a dead link.
            log("mqtt", "KEEPALIVE_S=%r is not a keepalive (1 to 65535 s); using 30" % (cfg.KEEPALIVE_S,))
            self.keepalive_s = 30
        self._backoff = Backoff(cfg.RECONNECT_MIN_MS, cfg.RECONNECT_MAX_MS,
                                lambda: random.getrandbits(16) / 65536)

    # --- packets out ------------------------------------------------------------------------------

    def _publish(self, kind, body):
        """Send one message at QoS 1 without waiting for its PUBACK; returns its packet id."""
        if not body.get("seq"):
            # Stamped once, when first sent: seq order is publish order, and a resend keeps its seq.
            self.seq += 1
            body["seq"] = self.seq
            body["boot"] = self.boot
            body["sess"] = self.sess
        c = self.client
        if c.pid >= 65535:
            c.pid = 0               # umqtt.simple never wraps: the 65,536th id would go out as 0
        # umqtt.simple takes retain BEFORE qos. It returns once the packet is written (see below).
        c.publish(self._topics[kind], json.dumps(body), kind in _RETAINED, 1)
        self._last_tx = uptime_ms()
        return c.pid

    def _hand_over_wait(self):
        # Stands in for wait_msg on the link's client: umqtt.simple's publish() and subscribe() call it
        # to wait for their PUBACK or SUBACK. publish() is told at once that its PUBACK came (a canned
        # one from the transport, for the id it just sent) and returns; subscribe() is stopped. The
        # broker's real answers are the reader's to take, with the class's own wait_msg.
        if self._subscribing:
            raise AnswerPending()
        self.conn.answer_puback(self.client.pid)
        return _PUBACK

    # --- packets in -------------------------------------------------------------------------------

    def _on_message(self, topic, msg):
        # Runs inside a client call: only hand the raw payload over, never work here.
        if topic == self._cmd_topic:
            if not self._retained:
                self.inbox.put(msg)
                return
            # The broker replays a retained command at every subscribe: history, not an instruction
            # for now. Run, it would be run again (and acked again) after every reconnect.
            self.ignored += 1
            log("mqtt", "ignored a retained command (a replay, not a live one): %r" % (msg[:80],))
        else:
            # amqtt sends a new client the retained messages of every filter any client subscribed to.
            self.ignored += 1
            log("mqtt", "ignored a message on %r (not subscribed)" % (topic,))

    def _take_packet(self):
        """Let the client read the packet that has begun to arrive; finish what it leaves to us.
        Returns the packet type, or None when it was a PUBLISH, a PINGRESP or nothing."""
        conn = self.conn
        conn.setblocking(False)
        # The first byte is read here and put back for the client: its retain flag (bit 0 of a PUBLISH)
        # reaches neither the callback nor, in umqtt.simple 1.3.4, wait_msg's caller. A live command
        # never has it: a broker clears it when forwarding to a subscriber (MQTT 3.1.1, 3.3.1.3).
        head = conn.read(1)
        if head is None:
            return None             # nothing after all
        conn.unread(head)
        self._retained = head != b"" and head[0] & 0xF1 == 0x31
        op = MQTTClient.wait_msg(self.client)   # the class's own: the instance's hands waits over
        self._last_rx = uptime_ms()
        if op is None or op & 0xF0 == 0x30:
            return None             # a PUBLISH (the callback has it) or a PINGRESP
        if op == _PUBACK:
            rest = self.conn.read(3)
            if rest[0] != 2:
                raise MQTTException("bad PUBACK length %d" % rest[0])
            if self.outbox.acked(rest[1] << 8 | rest[2]):
                self.wake.set()     # room in flight
            return op
        if op == _SUBACK:
            rest = self.conn.read(4)
            if rest[3] == 0x80:
                raise MQTTException("the broker refused the subscription to %s" % self._cmd_topic)
            return op
        raise MQTTException("unexpected packet type 0x%02x" % op)

    async def _await_packet(self, want, what):
        deadline = uptime_ms() + self.cfg.SOCKET_TIMEOUT_S * 1000
        while True:
            left = deadline - uptime_ms()
            if left <= 0:
                raise OSError("no %s from the broker within %d s" % (what, self.cfg.SOCKET_TIMEOUT_S))
            await asyncio.wait_for_ms(readable(self.conn.sock), left)
            if self._take_packet() == want:
                return

    # --- one connection ---------------------------------------------------------------------------

    async def _connect(self):
        cfg = self.cfg
        timeout_ms = cfg.SOCKET_TIMEOUT_S * 1000
        if self._addr is None or self.connects % 5 == 4:
            # getaddrinfo blocks while it asks DNS: only now and then, and never for an IP address.
            self._addr = socket.getaddrinfo(cfg.BROKER_HOST, cfg.BROKER_PORT)[0]
        self.connects += 1
        try:
            sock = await asyncio.wait_for_ms(dial(self._addr[-1], self._addr[0]), timeout_ms)
        except asyncio.TimeoutError:
            raise OSError("no TCP connection to %s:%d within %d s" % (cfg.BROKER_HOST, cfg.BROKER_PORT,
                                                                      cfg.SOCKET_TIMEOUT_S))
        sock.setsockopt(_IPPROTO_TCP, _TCP_NODELAY, 1)
        self.conn = Conn(sock, timeout_ms)
        sess = self.sess + 1
        c = MQTTClient(self.device_id, cfg.BROKER_HOST, cfg.BROKER_PORT, cfg.BROKER_USER,
                       cfg.BROKER_PASSWORD, self.keepalive_s)
        c.set_callback(self._on_message)
        c.wait_msg = self._hand_over_wait
        c.set_last_will(self._topics["status"],
                        json.dumps({"online": False, "boot": self.boot, "sess": sess}), True, 1)
        self.client = c
        saved, _umqtt.socket = _umqtt.socket, _Handover(self.conn)
        self.conn.stop_reads = True
        try:
            c.connect()
        except AnswerPending:
            pass
        finally:
            _umqtt.socket = saved
            self.conn.stop_reads = False
        await asyncio.wait_for_ms(readable(sock), timeout_ms)
        ack = self.conn.read(4)
        if len(ack) < 4 or ack[0] != 0x20 or ack[1] != 2:
            raise MQTTException("not a CONNACK: %r" % (ack,))
        if ack[3]:
            raise MQTTException("connection refused: %s" % _CONNACK_REFUSED.get(ack[3], ack[3]))
        self.sess = sess
        self._last_rx = uptime_ms()
        self._subscribing = True
        try:
            c.subscribe(self._cmd_topic, 1)
        except AnswerPending:
            pass
        finally:
            self._subscribing = False
        await self._await_packet(_SUBACK, "SUBACK")
        self._publish("status", {"online": True, "id": self.device_id, "fw": cfg.FIRMWARE,
                                 "ts": uptime_ms()})

    def _close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
        self.conn = None
        self.client = None

    async def _reader(self):
        sock = self.conn.sock
        while True:
            await readable(sock)
            self._take_packet()

    async def _writer(self):
        keepalive_ms = self.keepalive_s * 1000
        window = self.cfg.MAX_IN_FLIGHT
        outbox = self.outbox
        while True:
            entry = outbox.next_to_send() if outbox.in_flight() < window else None
            while entry is not None:
                outbox.sent(entry, self._publish(entry[0], entry[1]))
                await asyncio.sleep_ms(0)
                entry = outbox.next_to_send() if outbox.in_flight() < window else None
            now = uptime_ms()
            since_rx = now - self._last_rx
            if since_rx > keepalive_ms:
                raise OSError("nothing from the broker for %d ms" % since_rx)
            if now - self._last_tx >= keepalive_ms // 3:
                self.client.ping()          # its PINGRESP counts as a sign of life in the reader
                self._last_tx = now
            # Sleep until the next ping is due or the link would count as dead, unless woken.
            wait_ms = min(keepalive_ms // 3 - (now - self._last_tx), keepalive_ms - since_rx + 1)
            self.wake.clear()   # no await since the outbox was last looked at: nothing slipped in
            try:
                await asyncio.wait_for_ms(self.wake.wait(), wait_ms)
            except asyncio.TimeoutError:
                pass

    async def _guard(self, coro):
        try:
            await coro
        except LINK_ERRORS as e:
            self.down(e)
        except Exception as e:  # anything else from a reader or writer: a new connection, not a hang
            log("mqtt", "unexpected %s in the link; reconnecting" % _words(e))
            self.down(e)

    def down(self, reason):
        """End the current connection (a task of the link failed, or the network went away)."""
        if self.up:
            self._failure = reason
            self._down.set()

    async def run(self):
        cfg = self.cfg
        try:
            while True:
                try:
                    await self._connect()
                except LINK_ERRORS as e:
                    self._close()
                    wait = self._backoff.next()
                    log("mqtt", "connect to %s:%d failed: %s; retrying in %d ms"
                        % (cfg.BROKER_HOST, cfg.BROKER_PORT, _words(e), wait))
                    await asyncio.sleep_ms(wait)
                    continue
                self._backoff.reset()
                self.up = True
                log("mqtt", "connected to %s:%d as %s, session %d"
                    % (cfg.BROKER_HOST, cfg.BROKER_PORT, self.device_id, self.sess))
                if self.on_up:
                    self.on_up()
                self._down.clear()
                self.wake.set()
                tasks = (asyncio.create_task(self._guard(self._reader())),
                         asyncio.create_task(self._guard(self._writer())))
                try:
                    await self._down.wait()
                finally:
                    for t in tasks:
                        t.cancel()
                    self._end()
                wait = self._backoff.next()
                log("mqtt", "link down: %s; %d waiting in the outbox; reconnecting in %d ms"
                    % (_words(self._failure), len(self.outbox), wait))
                await asyncio.sleep_ms(wait)
        finally:
            self._end()     # also when cancelled (the network went away) in the middle of a connect

    def _end(self):
        self.up = False
        self._close()
        self.outbox.rewind()

    def stop(self):
        """A clean stop: say offline ourselves (the broker then drops the Last Will) and disconnect."""
        if not self.up:
            return
        self.up = False
        try:
            self._publish("status", {"online": False, "ts": uptime_ms()})
            self.client.disconnect()
        except LINK_ERRORS as e:
            log("mqtt", "clean stop failed: %s" % _words(e))
        self._close()


def _words(e):
    if isinstance(e, OSError) and e.args and isinstance(e.args[0], int):
        return "OSError %d" % e.args[0]
    return "%s: %s" % (type(e).__name__, e)
