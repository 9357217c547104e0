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

Every way a broker can fail ends in a logged retry with backoff, in words a person reads ("connection
refused", "no CONNACK from the broker within 5 s", "broker name not found"), never in a dead task: the
expected failures are LINK_ERRORS, anything else is logged as unexpected and retried the same way. The
backoff starts again from its minimum only after a connection that stayed up for STABLE_MS: a broker
that accepts and then drops the node at once is not hammered.

The link beats `beat` (the watchdog's progress) at every step: while it connects, serves, and waits to
retry. No wait of the link is longer than SOCKET_TIMEOUT_S, or a second when idle, so a link that beats
no more is stuck, while a broker that is down is not the node's fault and never stops the beats.

An incoming PUBLISH larger than MAX_COMMAND_BYTES is never read into memory: the link reads its fixed
header itself, and skips the payload in small reads as it arrives; a live command that large is answered
`too large` (through the inbox, by the command owner), a retained one of any size is ignored.

Credentials and TLS: BROKER_USER and BROKER_PASSWORD go in the CONNECT. With BROKER_CA set, the link
wraps its socket in TLS (broker_tls.py) and the handshake runs, without blocking on the network, as the CONNECT
goes out; the broker's certificate must verify against that CA and name BROKER_HOST. A refusal that
retrying will not mend (bad password, not authorized, a certificate that does not verify, a refused
subscription) is retried only every REFUSED_RETRY_MS.

Home Assistant discovery (discovery.py), when on: built once, published retained at each connect and
again whenever a live `homeassistant/status` says `online`.

DNS: `getaddrinfo` blocks the whole scheduler while it waits for an answer (buttons and LED included),
so the broker's address is looked up once, and again only after RESOLVE_AFTER failed connects in a row,
never while connected; an IP address never asks DNS.
"""

import asyncio
import errno
import json
import random
import socket

import umqtt.simple as _umqtt
from umqtt.simple import MQTTClient, MQTTException

from backoff import Backoff
from clock import uptime_ms
from log import log
from transport import AnswerPending, Conn, dial, readable, writable

# The unix port lacks the names; these are Linux's numbers. The Pico's lwIP has the names.
_IPPROTO_TCP = getattr(socket, "IPPROTO_TCP", 6)
_TCP_NODELAY = getattr(socket, "TCP_NODELAY", 1)


class LinkError(Exception):
    """A failure of the link, already said in words."""


class Refused(LinkError):
    """A refusal that retrying soon will not mend (a wrong password, a user the ACL does not allow, a
    certificate that does not verify): retried only every REFUSED_RETRY_MS, not hammered."""


# What umqtt.simple and the socket raise when a connection breaks: OSError from the socket,
# MQTTException for a refused CONNECT or SUBSCRIBE, AssertionError for a reply it did not expect,
# IndexError or TypeError when a read comes back empty in the middle of a packet; and the link's own.
# MicroPython's asyncio.TimeoutError is not an OSError: a wait that the link did not turn into a
# LinkError still ends in a retry.
LINK_ERRORS = (LinkError, OSError, MQTTException, AssertionError, IndexError, TypeError, asyncio.TimeoutError)

STABLE_MS = 10000               # a connection up this long resets the backoff
RESOLVE_AFTER = 5               # failed connects in a row before the broker's name is looked up again
_BEAT_MS = 1000                 # the longest idle wait of the writer, between beats
_SKIP_CHUNK = 64

_RETAINED = ("status", "state")
_PUBACK, _SUBACK = 0x40, 0x90
_CONNACK_REFUSED = {1: "unacceptable protocol version", 2: "client id rejected", 3: "server unavailable",
                    4: "bad user name or password", 5: "not authorized"}
_CONNACK_FOR_GOOD = (4, 5)      # what the user must mend: retried slowly


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
    def __init__(self, cfg, device_id, boot, outbox, inbox, wake, ha=None):
        """`ha`: discovery_messages(cfg, device_id), built by the caller (early: see there), or here."""
        prefix = "%s/%s/" % (cfg.TOPIC_PREFIX, device_id)
        self._topics = {}
        for kind in ("status", "state", "event", "ack"):
            self._topics[kind] = (prefix + kind).encode()
        self._cmd_topic = (prefix + "cmd").encode()
        # Home Assistant discovery: built once and kept (about 2 KB), published at each connect and
        # whenever Home Assistant says it is back (discovery.py); None when HA_DISCOVERY is off.
        # [(topic, payload)], [] when off; and the topic Home Assistant announces itself on
        self._ha, self._ha_status = ha if ha is not None else discovery_messages(cfg, device_id)
        self._announce = False      # Home Assistant came back: publish the discovery again
        self.port = cfg.BROKER_PORT or (8883 if cfg.BROKER_CA else 1883)
        self._tls = None            # broker_tls.Client with BROKER_CA: imported only then, so a node
        if cfg.BROKER_CA:           # without TLS keeps the heap its code would take
            import broker_tls

            self._tls = broker_tls.Client(cfg)
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
        self._strays = 0            # ... of those on topics we do not own, not yet said
        self._stray = None          # the first of them
        self._retained = False      # the packet the client is reading is a PUBLISH flagged retained
        self._addr = None           # the broker's resolved address, kept: DNS lookups block
        self._subscribing = False
        self._granted = False       # the last SUBACK granted its subscription
        self._failures = 0          # failed connects in a row
        self._skip = 0              # payload bytes of an oversized PUBLISH still to skip
        self._skipped = None        # (topic, retained, pid, size) of that PUBLISH
        self._skip_buf = bytearray(_SKIP_CHUNK)
        self._puback = bytearray(b"\x40\x02\0\0")
        self.too_large = 0          # live commands too large to read, answered `too large`
        self.beat = _nothing        # the watchdog's progress beat for the network
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
        payload = json.dumps(body)
        if kind != "state":
            # umqtt.simple sizes the packet by len(msg): of a str that is its characters, not its bytes,
            # and an id from a command may hold non-ASCII text. Snapshots are ASCII by construction
            # (numbers and fixed words), so the most frequent message is not copied again.
            payload = payload.encode()
        # umqtt.simple takes retain BEFORE qos. It returns once the packet is written (see below).
        c.publish(self._topics[kind], payload, kind in _RETAINED, 1)
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
        if topic == self._ha_status and not self._retained:
            if msg == b"online":
                self._announce = True       # the writer publishes the discovery again
                self.wake.set()
            return
        if topic == self._cmd_topic:
            if not self._retained:
                self.inbox.put(msg)
                return
            # The broker replays a retained command at every subscribe: history, not an instruction
            # for now. Run, it would be run again (and acked again) after every reconnect.
            self.ignored += 1
            log("mqtt", "ignored a retained command (a replay, not a live one): %r" % (msg[:80],))
        else:
            # amqtt sends a new client the retained messages of every filter any client subscribed to:
            # hundreds after a fleet simulation. Counted here, said in one line by the writer.
            self.ignored += 1
            if not self._strays:
                self._stray = topic
            self._strays += 1

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
        self._retained = head != b"" and head[0] & 0xF1 == 0x31
        if head != b"" and head[0] & 0xF0 == 0x30:
            if self._publish_too_large(head):
                return None         # being skipped; puts back what it read otherwise
        else:
            conn.unread(head)
        op = MQTTClient.wait_msg(self.client)   # the class's own: the instance's hands waits over
        self._last_rx = uptime_ms()
        if op is None or op & 0xF0 == 0x30:
            return None             # a PUBLISH (the callback has it) or a PINGRESP
        if op == _PUBACK:
            rest = self.conn.read(3)
            if rest[0] != 2:
                raise LinkError("a PUBACK of length %d" % rest[0])
            if self.outbox.acked(rest[1] << 8 | rest[2]):
                self.wake.set()     # room in flight
            return op
        if op == _SUBACK:
            rest = self.conn.read(4)
            self._granted = rest[3] != 0x80
            return op
        raise LinkError("a packet of unexpected type 0x%02x from the broker" % op)

    def _publish_too_large(self, head):
        """At a PUBLISH whose first byte is `head`: read its length. If its payload could be larger than
        a command may be, take its header here and start skipping the payload (True); else put the
        bytes read back for the client (False)."""
        conn = self.conn
        conn.setblocking(True)      # the rest of a fixed header: bounded waits in the transport
        size = 0
        shift = 0
        length = head
        while True:
            b = conn.read(1)
            if not b:
                raise LinkError("connection closed in a packet header")
            length += b
            size |= (b[0] & 0x7F) << shift
            if not b[0] & 0x80:
                break
            shift += 7
            if shift > 21:
                raise LinkError("a packet length of more than 4 bytes")
        qos = (head[0] >> 1) & 3
        if size <= self.cfg.MAX_COMMAND_BYTES + len(self._cmd_topic) + 4:
            conn.unread(length)
            return False
        n = conn.read(2)
        topic = conn.read(n[0] << 8 | n[1])     # a topic is at most 64 KB; a command's is short
        size -= 2 + len(topic)
        pid = 0
        if qos:
            p = conn.read(2)
            pid = p[0] << 8 | p[1]
            size -= 2
        self._last_rx = uptime_ms()
        self._skipped = (topic, self._retained, pid if qos == 1 else 0, size)
        self._skip = size
        self._skip_rest()
        return True

    def _skip_rest(self):
        """Discard what has arrived of an oversized payload, without waiting; once all of it is gone,
        acknowledge it and say what it was."""
        sock = self.conn.sock
        buf = self._skip_buf
        while self._skip:
            got = sock.readinto(buf, min(self._skip, _SKIP_CHUNK))
            if got is None:
                return              # the rest has not arrived yet: the reader comes back
            if not got:
                raise LinkError("connection closed in the middle of a message")
            self._skip -= got
            self._last_rx = uptime_ms()
        topic, retained, pid, size = self._skipped
        self._skipped = None
        if pid:
            self._puback[2] = pid >> 8
            self._puback[3] = pid & 0xFF
            self.conn.write(self._puback)
        if topic != self._cmd_topic or retained:
            self.ignored += 1
            log("mqtt", "ignored a %s message of %d bytes on %s (not read)"
                % ("retained" if retained else "live", size, topic.decode()))
            return
        self.too_large += 1
        log("mqtt", "a command of %d bytes was not read (at most %d)" % (size, self.cfg.MAX_COMMAND_BYTES))
        self.inbox.put(size)        # the command owner answers `too large`

    def _on_readable(self):
        if self._skip:
            self._skip_rest()
            return None
        return self._take_packet()

    async def _await_packet(self, want, what):
        deadline = uptime_ms() + self.cfg.SOCKET_TIMEOUT_S * 1000
        while True:
            left = deadline - uptime_ms()
            if left <= 0:
                raise LinkError("no %s from the broker within %d s" % (what, self.cfg.SOCKET_TIMEOUT_S))
            try:
                await asyncio.wait_for_ms(readable(self.conn.sock), left)
            except asyncio.TimeoutError:
                continue            # said above, at the deadline
            if self._on_readable() == want:
                return

    # --- one connection ---------------------------------------------------------------------------

    def _resolve(self):
        cfg = self.cfg
        if self._addr is not None and self._failures % RESOLVE_AFTER != RESOLVE_AFTER - 1:
            return
        try:
            # Blocks the scheduler while DNS answers (see above); an IP address returns at once.
            self._addr = socket.getaddrinfo(cfg.BROKER_HOST, self.port)[0]
        except OSError as e:
            if self._addr is not None:
                return              # keep the address that worked: DNS may be what is down
            raise LinkError("broker name %s not found (%s)" % (cfg.BROKER_HOST, _words(e)))

    async def _connect(self):
        cfg = self.cfg
        timeout_ms = cfg.SOCKET_TIMEOUT_S * 1000
        self._resolve()
        self.connects += 1
        self._skip = 0
        self._skipped = None
        try:
            sock = await asyncio.wait_for_ms(dial(self._addr[-1], self._addr[0]), timeout_ms)
        except asyncio.TimeoutError:
            raise LinkError("no answer to the TCP connect within %d s" % cfg.SOCKET_TIMEOUT_S)
        self.beat()
        sock.setsockopt(_IPPROTO_TCP, _TCP_NODELAY, 1)
        if self._tls:
            try:
                sock = self._tls.wrap(sock)     # the handshake runs later, as the CONNECT goes out
            except Exception as e:
                refused, why = self._tls.failure(e, self.port)
                raise (Refused if refused else LinkError)(why)
        self.conn = Conn(sock, timeout_ms)
        sess = self.sess + 1
        c = MQTTClient(self.device_id, cfg.BROKER_HOST, self.port, cfg.BROKER_USER,
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
        await self._send_held(timeout_ms)
        try:
            await asyncio.wait_for_ms(readable(sock), timeout_ms)
        except asyncio.TimeoutError:
            raise LinkError("no CONNACK from the broker within %d s" % cfg.SOCKET_TIMEOUT_S)
        self.beat()
        ack = self.conn.read(4)
        if ack == b"":
            raise OSError(-1)       # closed before its CONNACK
        if len(ack) < 4 or ack[0] != 0x20 or ack[1] != 2:
            raise LinkError("not a CONNACK: %r" % (ack,))
        if ack[3]:
            why = "the broker refused the connection: %s" % _CONNACK_REFUSED.get(ack[3], ack[3])
            if ack[3] in _CONNACK_FOR_GOOD:
                raise Refused("%s (user %s)" % (why, cfg.BROKER_USER or "none: anonymous"))
            raise LinkError(why)
        self.sess = sess
        self._last_rx = uptime_ms()
        if not await self._subscribe(self._cmd_topic):
            raise Refused("the broker refused the subscription to %s (see its ACL for user %s)"
                          % (self._cmd_topic.decode(), cfg.BROKER_USER))
        if self._ha_status and not await self._subscribe(self._ha_status):
            # Discovery still goes out at each connect; only Home Assistant's restarts go unheard.
            log("mqtt", "the broker refused the subscription to %s: Home Assistant's restarts will "
                "not be heard" % self._ha_status.decode())
        self._publish("status", {"online": True, "id": self.device_id, "fw": cfg.FIRMWARE,
                                 "hb": cfg.HEARTBEAT_S, "ts": uptime_ms()})
        self._announce = True       # the writer publishes the discovery first thing

    async def _subscribe(self, topic):
        """Subscribe at QoS 1 and wait for the SUBACK; True when the broker granted it."""
        self._subscribing = True
        try:
            self.client.subscribe(topic, 1)
        except AnswerPending:
            pass
        finally:
            self._subscribing = False
        await self._await_packet(_SUBACK, "SUBACK")
        return self._granted

    async def _send_held(self, timeout_ms):
        """Send what the CONNECT left waiting in the transport (over TLS: all of it, after the
        handshake), waiting on the socket with asyncio."""
        conn = self.conn
        deadline = uptime_ms() + timeout_ms
        while conn.held is not None:
            try:
                if conn.send_held():
                    return
            except (ValueError, OSError) as e:  # over TLS: the handshake failed (broker_tls says why)
                if not self._tls:
                    raise
                refused, why = self._tls.failure(e, self.port)
                raise (Refused if refused else LinkError)(why)
            left = deadline - uptime_ms()
            if left <= 0:
                raise LinkError("no %s from the broker within %d s" % (
                    "TLS handshake" if self.cfg.BROKER_CA else "room to send the CONNECT",
                    self.cfg.SOCKET_TIMEOUT_S))
            try:
                await asyncio.wait_for_ms(writable(conn.sock), left)
            except asyncio.TimeoutError:
                pass                        # said above, at the deadline
            self.beat()

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
            self._on_readable()

    async def _writer(self):
        keepalive_ms = self.keepalive_s * 1000
        window = self.cfg.MAX_IN_FLIGHT
        outbox = self.outbox
        while True:
            self.beat()
            if self._strays:
                log("mqtt", "ignored %d message(s) on topics not subscribed to (the broker replays retained "
                    "ones), the first on %s" % (self._strays, self._stray.decode()))
                self._strays = 0
            if self._announce:
                self._announce = False
                for topic, payload in self._ha:
                    # Retained, QoS 1, outside the outbox (no seq: it is configuration, not news); its
                    # PUBACK matches no outbox entry. Lost with a connection, it goes out at the next.
                    self.client.publish(topic, payload, True, 1)
                    self._last_tx = uptime_ms()
                    await asyncio.sleep_ms(0)
            entry = outbox.next_to_send() if outbox.in_flight() < window else None
            while entry is not None:
                outbox.sent(entry, self._publish(entry[0], entry[1]))
                await asyncio.sleep_ms(0)
                entry = outbox.next_to_send() if outbox.in_flight() < window else None
            now = uptime_ms()
            since_rx = now - self._last_rx
            if since_rx > keepalive_ms:
                raise LinkError("nothing from the broker for %d s" % (since_rx // 1000))
            if now - self._last_tx >= keepalive_ms // 3:
                self.client.ping()          # its PINGRESP counts as a sign of life in the reader
                self._last_tx = now
            # Sleep until the next ping is due or the link would count as dead, unless woken; at most
            # _BEAT_MS, to beat.
            wait_ms = min(keepalive_ms // 3 - (now - self._last_tx), keepalive_ms - since_rx + 1, _BEAT_MS)
            self.wake.clear()   # no await since the outbox was last looked at: nothing slipped in
            try:
                await asyncio.wait_for_ms(self.wake.wait(), wait_ms)
            except asyncio.TimeoutError:
                pass
            if not self.up:
                return              # the connection ended while we slept (a cancel can come late)

    async def _guard(self, coro):
        try:
            await coro
        except LINK_ERRORS as e:
            self.down(e)
        except Exception as e:  # anything else from a reader or writer: a new connection, not a hang
            if self.up:             # (once down, a task that runs on before its cancel has nothing to say)
                log("mqtt", "unexpected %s in the link; reconnecting" % _words(e))
                self.down(e)

    def down(self, reason):
        """End the current connection (a task of the link failed, or the network went away)."""
        if self.up:
            self._failure = reason
            self._down.set()

    async def pause(self, wait_ms):
        """Sleep `wait_ms` in slices, beating: a network that waits to retry is making progress."""
        while wait_ms > 0:
            self.beat()
            step = min(wait_ms, _BEAT_MS)
            await asyncio.sleep_ms(step)
            wait_ms -= step

    async def run(self):
        cfg = self.cfg
        where = "%s:%d%s" % (cfg.BROKER_HOST, self.port, " (TLS)" if cfg.BROKER_CA else "")
        try:
            while True:
                self.beat()
                try:
                    await self._connect()
                except Exception as e:  # LINK_ERRORS, and anything else: a retry, never a dead link
                    self._close()
                    self._failures += 1
                    wait = self._backoff.next()
                    if isinstance(e, Refused):
                        wait = max(wait, cfg.REFUSED_RETRY_MS)
                    log("mqtt", "connect to %s failed: %s; retrying in %d ms"
                        % (where, _words(e) if isinstance(e, LINK_ERRORS) else "unexpected " + _words(e), wait))
                    await self.pause(wait)
                    continue
                self._failures = 0
                self.up = True
                since = uptime_ms()
                log("mqtt", "connected to %s as %s, session %d" % (where, self.device_id, self.sess))
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
                if uptime_ms() - since >= STABLE_MS:
                    self._backoff.reset()
                wait = self._backoff.next()
                log("mqtt", "link down: %s; %d waiting in the outbox; reconnecting in %d ms"
                    % (_words(self._failure), len(self.outbox), wait))
                await self.pause(wait)
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
            log("mqtt", "said offline and disconnected")
        except LINK_ERRORS as e:
            log("mqtt", "clean stop failed: %s" % _words(e))
        self._close()


def _nothing():
    pass


def discovery_messages(cfg, device_id):
    """([(topic, payload)], Home Assistant's status topic) when HA_DISCOVERY is on, else ([], None),
    built once (discovery.build); the module that built them is dropped again: its code is not needed
    after start-up, and on a board the heap it would hold is better spent."""
    if not getattr(cfg, "HA_DISCOVERY", True):
        return [], None
    import sys

    import discovery

    try:
        return discovery.build(cfg, device_id, log)
    finally:
        del sys.modules["discovery"]


# What a person reads instead of an error number.
_ERRNO_WORDS = {
    -1: "connection closed",            # umqtt.simple's word for a read that came back empty
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset",
    errno.ECONNABORTED: "connection aborted",
    errno.ETIMEDOUT: "timed out",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENOTCONN: "not connected",
    errno.ENOBUFS: "out of network buffers",
    errno.ENOMEM: "out of memory",
}


def _words(e):
    if isinstance(e, LinkError):
        return str(e)
    if isinstance(e, OSError):
        code = e.args[0] if e.args else None
        if isinstance(code, int):
            return _ERRNO_WORDS.get(code) or "%s (error %d)" % (errno.errorcode.get(code, "OSError"), code)
        return str(code)            # the unix port's "[addrinfo error -2]" is text already
    if isinstance(e, asyncio.TimeoutError):
        return "timed out"
    if isinstance(e, MQTTException):
        return "the broker refused: %s" % (e.args[0] if e.args else "?")
    return "%s: %s" % (type(e).__name__, e)
