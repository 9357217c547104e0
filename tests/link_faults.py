"""A broker front that fails the way real networks and brokers do, for tests/integration/test_link_failures.py:
a TCP listener between the node and a real broker whose `mode` says what a new connection meets.

- "forward": the real broker (bytes pumped both ways);
- "blackhole": the TCP connect gets no answer (the listener stops accepting and its one-place backlog
  is kept full, so the kernel drops new SYNs);
- "silent": the connection is accepted and nothing ever comes back (no CONNACK);
- "no_suback": the real broker, but everything the client sends after its CONNECT is swallowed, so
  the CONNACK comes and the SUBACK never does;
- "reset": the CONNECT is answered by the first half of a CONNACK, then a TCP reset.

Changing the mode drops the connections that pass at that moment, so the node meets the new mode at
its next connect. Everything runs on one thread with a selector, bounded by close().
"""

import selectors
import socket
import struct
import threading

MODES = ("forward", "blackhole", "silent", "no_suback", "reset")


def _packet_end(buf):
    """The length of the first whole MQTT packet in `buf`, or None if it is not all there yet."""
    size, shift, i = 0, 0, 1
    while True:
        if i >= len(buf):
            return None
        b = buf[i]
        size |= (b & 0x7F) << shift
        i += 1
        if not b & 0x80:
            break
        shift += 7
    return i + size if len(buf) >= i + size else None


class BrokerFront:
    def __init__(self, upstream_host, upstream_port, mode="forward", host="127.0.0.1"):
        assert mode in MODES, mode
        self.upstream = (upstream_host, upstream_port)
        self._srv = socket.socket()
        self._srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._srv.bind((host, 0))
        self._srv.listen(0)         # one place in the backlog: see "blackhole"
        self._srv.setblocking(False)
        self.port = self._srv.getsockname()[1]
        self.addr = "%s:%d" % (host, self.port)
        self.mode = None
        self.met = {m: 0 for m in MODES}    # connections accepted in each mode
        self._conns = {}            # socket -> [mode, peer socket or None, bytes from the client so far]
        self._plug = None           # the connection that keeps the backlog full while blackholed
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._sel.register(self._wake_r, selectors.EVENT_READ)
        self._lock = threading.Lock()
        self._asked = mode
        self._cut = False
        self._running = True
        self._thread = threading.Thread(target=self._loop, daemon=True, name="broker-front")
        self._thread.start()

    def set_mode(self, mode):
        assert mode in MODES, mode
        with self._lock:
            self._asked = mode
        self._wake_w.send(b"m")

    def cut(self):
        """Drop the connections that pass now (the node sees its broker hang up); the mode stays."""
        with self._lock:
            self._cut = True
        self._wake_w.send(b"c")

    def _apply_mode(self):
        with self._lock:
            mode, self._asked = self._asked, None
            cut, self._cut = self._cut, False
        if cut or (mode is not None and mode != self.mode):
            for s in [s for s, c in self._conns.items() if c[0] is not None]:
                self._drop(s)
        if mode is None or mode == self.mode:
            return
        if mode == "blackhole":
            if self.mode != "blackhole" and self.mode is not None:
                self._sel.unregister(self._srv)
            self._plug = socket.create_connection(self._srv.getsockname(), timeout=2)  # fills the backlog
        else:
            if self.mode in (None, "blackhole"):
                self._sel.register(self._srv, selectors.EVENT_READ)
            if self._plug is not None:
                self._plug.close()  # its queued twin is accepted, sees the end, and is dropped
                self._plug = None
        self.mode = mode

    def _loop(self):
        while self._running:
            self._apply_mode()
            for key, _ in self._sel.select(0.2):
                s = key.fileobj
                if s is self._wake_r:
                    self._wake_r.recv(64)
                    break           # the mode may have changed: look again
                if s is self._srv:
                    self._accept()
                elif s in self._conns:
                    self._pump(s)

    def _accept(self):
        try:
            down, _ = self._srv.accept()
        except BlockingIOError:
            return
        mode = self.mode
        self.met[mode] += 1
        up = None
        if mode in ("forward", "no_suback"):
            try:
                up = socket.create_connection(self.upstream, timeout=1.0)
            except OSError:
                down.close()
                return
            up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._conns[up] = [None, down, b""]     # the broker's side: mode None, pumped to the client
            self._sel.register(up, selectors.EVENT_READ)
        down.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._conns[down] = [mode, up, b""]
        self._sel.register(down, selectors.EVENT_READ)

    def _pump(self, s):
        conn = self._conns[s]
        mode, peer = conn[0], conn[1]
        try:
            data = s.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._drop(s)
            return
        try:
            if mode is None or mode == "forward":
                peer.sendall(data)
            elif mode == "no_suback":
                if conn[2] is not None:             # the CONNECT has not all gone yet
                    conn[2] += data
                    end = _packet_end(conn[2])
                    if end is not None:
                        peer.sendall(conn[2][:end])   # the CONNECT; the rest, and all after, is swallowed
                        conn[2] = None
            elif mode == "reset":
                conn[2] += data
                if _packet_end(conn[2]) is not None:
                    s.sendall(b"\x20\x02")          # half a CONNACK
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self._drop(s)                   # closed with linger 0: a reset
            # "silent": read and forget
        except OSError:
            self._drop(s)

    def _drop(self, s):
        conn = self._conns.pop(s, None)
        peer = conn[1] if conn else None
        for x in (s, peer):
            if x is None:
                continue
            self._conns.pop(x, None)
            try:
                self._sel.unregister(x)
            except (KeyError, ValueError):
                pass
            x.close()

    def close(self):
        if not self._running:
            return
        self._running = False
        self._wake_w.send(b"x")
        self._thread.join(5)
        for s in list(self._conns):
            self._drop(s)
        for s in (self._srv, self._wake_r, self._wake_w, self._plug):
            if s is not None:
                s.close()
        self._sel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
