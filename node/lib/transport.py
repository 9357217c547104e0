"""The link's TCP transport: a connect that never blocks the scheduler, and the socket umqtt.simple
is given, which never blocks it either.

`Conn` keeps the real socket non-blocking for good; umqtt.simple calls `setblocking` and `settimeout`
on it, and those only change how `Conn` waits (on the Pico's lwIP, `setblocking(True)` would also
clear the timeout). Two waits remain, both bounded by `timeout_ms` and both only reached when the
peer is mid-packet: the rest of a packet whose first byte has arrived, and room in the send buffer.

`stop_reads`: while set, every read raises `AnswerPending` instead. The link sets it around
umqtt.simple's `connect`, which reads its CONNACK straight from the socket: the call ends as soon as
CONNECT is written, and the link waits for the CONNACK with asyncio. What the socket does not take
during that call waits in `held`, for the link to send with asyncio (`send_held`): over TLS, the whole
handshake runs there, as the CONNECT goes out (see broker_tls.py). (Its `publish` and `subscribe`
wait through `wait_msg`, which the link replaces on its client, see link.py.)

`answer_puback(pid)`: the next two reads return the rest of a PUBACK for `pid` (its length byte,
then its id) from a buffer allocated once, so umqtt.simple's `publish` returns without waiting and
without an exception (a raised instance is allocated, or, re-raised, grows its traceback each time).

`unread(head)`: the next reads return `head` first: a packet's first byte (and, for a PUBLISH, its length
bytes) that the link read itself to see the packet's flags and size (umqtt.simple's `wait_msg` keeps the
flags to itself, and would read a payload of any size), before letting the client read the packet.

Error numbers by name: the unix port on macOS and the Pico's lwIP do not use Linux's numbers.
"""

import errno
import select
import socket
import time
from asyncio import core as _core


class AnswerPending(Exception):
    """Raised inside a umqtt.simple call when the answer it would wait for is the link's to wait for."""


_PUBACK_LEN = b"\x02"


async def readable(sock):
    # Park the calling task in asyncio's poller until `sock` has bytes (or an error) to report.
    yield _core._io_queue.queue_read(sock)


async def writable(sock):
    yield _core._io_queue.queue_write(sock)


async def dial(addr, family=None):
    """A TCP connection to `addr` (from getaddrinfo), made without blocking; the caller bounds the
    wait with asyncio.wait_for_ms. A refused or unreachable peer shows up at the first write."""
    s = socket.socket(family) if family is not None else socket.socket()
    try:
        s.setblocking(False)
        try:
            s.connect(addr)
        except OSError as e:
            if e.args[0] != errno.EINPROGRESS:
                raise
        await writable(s)
    except BaseException:
        s.close()
        raise
    return s


class Conn:
    def __init__(self, sock, timeout_ms):
        self.sock = sock
        self.timeout_ms = timeout_ms
        self.stop_reads = False
        self.held = None                        # bytes written while connecting, not sent yet
        self._canned = 0                        # reads left of a canned PUBACK
        self._head = None                       # bytes put back by unread()
        self._pid = bytearray(2)
        self._blocking = True
        self._poll = select.poll()              # for the bounded waits inside one packet
        self._poll.register(sock, select.POLLIN)

    # --- what umqtt.simple calls -----------------------------------------------------------------

    def connect(self, addr):
        pass                        # already connected, by dial()

    def setblocking(self, flag):
        self._blocking = flag

    def settimeout(self, t):
        pass                        # the link's timeout_ms rules

    def setsockopt(self, *args):
        self.sock.setsockopt(*args)

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def answer_puback(self, pid):
        self._pid[0] = pid >> 8
        self._pid[1] = pid & 0xFF
        self._canned = 2

    def unread(self, head):
        self._head = head           # never None: an empty read (b"") is put back too

    def read(self, n):
        if self._canned:
            self._canned -= 1
            return self._pid if self._canned == 0 else _PUBACK_LEN
        if self._head is not None:
            got = self._head        # umqtt.simple reads a header a byte at a time
            if len(got) > n:
                self._head = got[n:]
                return got[:n]
            self._head = None
            return got
        if self.stop_reads:
            # Whatever the call wanted to read is an answer the link waits for (and must see itself:
            # a PUBACK taken here would be lost to the outbox).
            raise AnswerPending()
        got = self.sock.read(n)
        if got is None:             # nothing there yet
            if not self._blocking:
                return None
            return self._wait_rest(b"", n)
        if got == b"" or len(got) == n:
            return got              # b"": the peer closed; umqtt.simple turns it into OSError(-1)
        return self._wait_rest(got, n)

    def write(self, buf, n=None):
        # The usual case, the socket takes it all at once, allocates nothing: umqtt.simple writes each
        # packet in 4 or 5 pieces, and MicroPython puts a frame with many locals on the heap at every
        # call (about 200 bytes each time), so the loop and its locals live in _write_rest.
        if n is None or n > len(buf):
            n = len(buf)
        if self.held is not None:
            self.held += memoryview(buf)[:n]    # behind what waits already: the order is kept
            return n
        k = self.sock.write(buf, n)
        if k == n:
            return k
        if self.stop_reads:
            # Connecting: what the socket does not take now is the link's to send, with asyncio (over
            # TLS, the handshake runs as the CONNECT goes out and needs the broker's answers first).
            self.held = bytearray(memoryview(buf)[k or 0:n])
            return n
        return self._write_rest(buf, n, k or 0)

    def send_held(self):
        """Send what waits in `held`, as much as the socket takes now; True once all of it is gone.
        Over TLS this is what drives the handshake (and raises if it fails)."""
        k = self.sock.write(self.held)
        if k:
            self.held = self.held[k:]
        if self.held:
            return False
        self.held = None
        return True

    def _write_rest(self, buf, n, done):
        mv = memoryview(buf)[:n]
        deadline = time.ticks_add(time.ticks_ms(), self.timeout_ms)
        while done < n:
            k = self.sock.write(mv[done:])
            if k:
                done += k
                continue
            # The send buffer is full: only a stalled link gets here (the link keeps few in flight).
            left = time.ticks_diff(deadline, time.ticks_ms())
            if left <= 0:
                raise OSError(errno.ETIMEDOUT)
            p = select.poll()
            p.register(self.sock, select.POLLOUT)
            p.poll(left)
        return done

    def _wait_rest(self, got, n):
        deadline = time.ticks_add(time.ticks_ms(), self.timeout_ms)
        while len(got) < n:
            left = time.ticks_diff(deadline, time.ticks_ms())
            if left <= 0:
                raise OSError(errno.ETIMEDOUT)
            if not self._poll.poll(left):
                continue
            more = self.sock.read(n - len(got))
            if more == b"":
                if got:
                    raise OSError(-1)   # closed in the middle of a packet
                return b""
            if more:
                got += more
        return got
