"""Outages on demand, for tests/integration/test_outages.py and bench/node_bench.py: brokers that can be
killed and restarted on the same address, a TCP gate between the node and its broker, a network
namespace with a veth pair whose link can be cut, the node on the virtual board, the recorder, and the
readings the tests assert on (LED gaps, events per boot, `monitor check` findings).

Everything here is bounded in time (each wait has a deadline) and cleans up after itself: use the
classes as context managers, or call their `close()`/`stop()` in a `finally`.
"""

import itertools
import json
import os
import re
import selectors
import signal
import socket
import struct
import subprocess
import textwrap
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from broker.addresses import is_loopback
from sim.pins import Board
from tests.helpers import PY, Child, Recording, fail_or_skip, free_port, require_tool, wait_until

ROOT = Path(__file__).resolve().parents[1]
BUTTON_A, BUTTON_B, LED = "GP14", "GP13", "GP15"
FAST_PERIOD_S = 0.2                 # node/config.py FAST_PERIOD_MS
KEEPALIVE_S = 2

# Short timings, so that an outage is noticed and healed in seconds, not minutes.
# The node's heap in every integration test (`python -m sim node --heap`): sized like a Pico's rather
# than the unix port's default 2 MB, so that a leak, or a change that doubles what the node holds, fails
# a test as a MemoryError. The node from source (.py) needs about 152K here to boot and run (it compiles
# its sources at import; docs/benchmarks.md, "The node's memory"); a full outbox in an outage adds up to
# about 65K (OUTBOX_SIZE 256 events, 64-bit objects). 320K holds both with room to spare.
NODE_HEAP = "320K"

FAST_LINK = ("KEEPALIVE_S=%d" % KEEPALIVE_S, "RECONNECT_MIN_MS=200", "RECONNECT_MAX_MS=1000",
             "SOCKET_TIMEOUT_S=2", "HEARTBEAT_S=2")


def accepting(host, port):
    try:
        socket.create_connection((host, port), timeout=0.5).close()
        return True
    except OSError:
        return False


# --- brokers -------------------------------------------------------------------------------------

class BrokerProcess:
    """amqtt (`python -m broker`) or Mosquitto on one address, which can be killed and started again
    there. `addr` is HOST:PORT."""

    def __init__(self, kind, workdir, host="127.0.0.1", port=None, extra_conf=""):
        self.kind = kind
        self.host = host
        self.port = port or free_port()
        self.addr = "%s:%d" % (host, self.port)
        self.workdir = Path(workdir)
        self.child = None
        self.starts = 0
        if kind == "mosquitto":
            self.exe = require_tool("mosquitto")
            self.conf = self.workdir / ("mosquitto-%d.conf" % self.port)
            self.conf.write_text(textwrap.dedent("""\
                listener %d %s
                allow_anonymous true
                set_tcp_nodelay true
                persistence false
                log_dest stdout
                log_type error
                log_type warning
                """ % (self.port, host)) + extra_conf)
        elif kind != "amqtt":
            raise ValueError(kind)

    def start(self, timeout=20):
        if self.kind == "amqtt":
            # On a test namespace's own address, not loopback: the broker would refuse to serve it
            # anonymously without being told (issue 11).
            anonymous = [] if is_loopback(self.host) else ["--allow-anonymous"]
            self.child = Child([PY, "-m", "broker", "--host", self.host, "--port", str(self.port), *anonymous],
                               cwd=ROOT)
            self.child.wait_line("listening", timeout)
        else:
            self.child = Child([self.exe, "-c", str(self.conf)])
            # No probe connections for amqtt (it logs an error for each); Mosquitto does not mind.
            wait_until(lambda: accepting(self.host, self.port) or self._died(), timeout,
                       "mosquitto to listen on %s" % self.addr)
        self.starts += 1
        return self

    def _died(self):
        if self.child.p.poll() is not None:
            raise AssertionError("%s ended (status %s):\n%s" % (self.kind, self.child.p.returncode,
                                                                self.child.output()))
        return False

    def kill(self, sig=signal.SIGKILL, timeout=10):
        """End the broker with `sig` (SIGKILL: no goodbye at all; SIGTERM: its own shutdown)."""
        if self.child is not None:
            self.child.signal(sig, group=True)
            self.child.finish(timeout)
        self.child = None

    def stop(self):
        if self.child is not None:
            self.child.stop()
            self.child = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# --- a gate between the node and its broker ------------------------------------------------------

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


class Gate:
    """A TCP front between the node and a real broker: accepts on its own port, and a new connection
    meets what `mode` says:
    - "forward": the broker (bytes pumped both ways; either side closing closes both);
    - "closed": closed at once (the node's CONNECT gets no CONNACK, just an end of stream), so a test
      decides when the node may come back (`close_gate`, `open_gate`); counted in `refused`, with the
      connections the broker refused;
    - "blackhole": the TCP connect gets no answer (the listener stops accepting and its one-place
      backlog is kept full, so the kernel drops new SYNs);
    - "silent": accepted, and nothing ever comes back (no CONNACK);
    - "no_suback": the broker, but everything the client sends after its CONNECT is swallowed: the
      CONNACK comes, the SUBACK never does;
    - "reset": the CONNECT is answered by the first half of a CONNACK, then a TCP reset.
    `set_mode(mode, drop=True)` also drops the connections that pass at that moment; `reset()` drops them
    and keeps the mode. One thread with a selector, ended by close()."""

    MODES = ("forward", "closed", "blackhole", "silent", "no_suback", "reset")

    def __init__(self, upstream_host, upstream_port, mode="forward", host="127.0.0.1"):
        assert mode in self.MODES, mode
        self.upstream = (upstream_host, upstream_port)
        self._srv = socket.socket()
        self._srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._srv.bind((host, 0))
        self._srv.listen(0)         # one place in the backlog: see "blackhole"
        self._srv.setblocking(False)
        self.host = host
        self.port = self._srv.getsockname()[1]
        self.addr = "%s:%d" % (host, self.port)
        self.mode = None
        self.met = dict.fromkeys(self.MODES, 0)     # connections accepted in each mode
        self.upstream_failures = 0
        self._conns = {}            # socket -> [mode (None: the broker's side), peer or None, bytes so far]
        self._plug = None           # the connection that keeps the backlog full while blackholed
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._sel.register(self._wake_r, selectors.EVENT_READ)
        self._lock = threading.Lock()
        self._asked = (mode, False)
        self._cut = False
        self._running = True
        self._thread = threading.Thread(target=self._loop, daemon=True, name="gate")
        self._thread.start()

    @property
    def refused(self):
        return self.met["closed"] + self.upstream_failures

    @property
    def accepted(self):
        return self.met["forward"]

    def set_mode(self, mode, drop=True):
        assert mode in self.MODES, mode
        with self._lock:
            self._asked = (mode, drop)
        self._wake_w.send(b"m")

    def close_gate(self):
        self.set_mode("closed", drop=False)

    def open_gate(self):
        self.set_mode("forward", drop=False)

    def reset(self):
        """Close every connection that passes now, both sides (the node sees its broker hang up); the
        mode stays."""
        with self._lock:
            self._cut = True
        self._wake_w.send(b"r")

    def connections(self):
        return sum(1 for c in self._conns.values() if c[0] is not None)

    def _apply(self):
        with self._lock:
            asked, self._asked = self._asked, None
            cut, self._cut = self._cut, False
        mode, drop = asked if asked else (self.mode, False)
        if cut or (drop and mode != self.mode):
            for s in [s for s, c in self._conns.items() if c[0] is not None]:
                self._drop(s)
        if mode == self.mode:
            return
        if mode == "blackhole":
            if self.mode is not None:
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
            self._apply()
            for key, _ in self._sel.select(0.2):
                s = key.fileobj
                if s is self._wake_r:
                    self._wake_r.recv(64)
                    break           # the mode may have changed, sockets ready may be closed: look again
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
        if mode == "closed":
            down.close()
            return
        up = None
        if mode in ("forward", "no_suback"):
            try:
                up = socket.create_connection(self.upstream, timeout=1.0)
            except OSError:
                self.upstream_failures += 1
                down.close()
                return
            up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._conns[up] = [None, down, b""]
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


# --- a network namespace for the node ------------------------------------------------------------

_NS_PREFIX = "pst"
_ns_counter = itertools.count()


def _run(*args, check=True):
    return subprocess.run(args, capture_output=True, text=True, timeout=20, check=check)


def _remove_stale_namespaces():
    """Namespaces and veths this harness made in a process that no longer exists (killed before its
    clean-up ran): removed, so they do not pile up."""
    out = _run("ip", "netns", "list", check=False).stdout
    for line in out.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.fullmatch(_NS_PREFIX + r"-(\d+)-\d+", name)
        if m and not Path("/proc", m.group(1)).exists():
            _run("ip", "netns", "del", name, check=False)
    out = _run("ip", "-o", "link", "show", check=False).stdout
    for m in re.finditer(r"^\d+: (%sh(\d+)x\d+)[@:]" % _NS_PREFIX, out, re.M):
        if not Path("/proc", m.group(2)).exists():
            _run("ip", "link", "del", m.group(1), check=False)


def _free_link_local_net():
    """A 169.254.X.Y/30 that no interface here uses (link-local only, never a private or public range)."""
    used = set(re.findall(r"inet 169\.254\.(\d+)\.", _run("ip", "-4", "-o", "addr", check=False).stdout))
    start = os.getpid() % 50
    for i in range(50):
        x = 200 + (start + i) % 50
        if str(x) not in used:
            return x
    raise AssertionError("no free 169.254.200-249.0/30 network here")


class Partition:
    """The node's own network namespace, joined to the host by a veth pair: the host side has
    169.254.X.1/30 (the broker and the recorder listen/connect there), the namespace 169.254.X.2.
    `cut()` takes the host side down: packets between them vanish silently, as on a dead Wi-Fi or a
    pulled cable upstream, while the host still reaches its own address. `restore()` undoes it."""

    def __init__(self):
        self.ip = require_tool("ip")
        if os.geteuid() != 0:
            fail_or_skip("network namespaces need root")
        _remove_stale_namespaces()
        n = next(_ns_counter)
        self.ns = "%s-%d-%d" % (_NS_PREFIX, os.getpid(), n)
        self.veth_host = "%sh%dx%d" % (_NS_PREFIX, os.getpid(), n)      # at most 15 characters
        self.veth_ns = "%sn%dx%d" % (_NS_PREFIX, os.getpid(), n)
        x = _free_link_local_net()
        self.host_addr = "169.254.%d.1" % x
        self.ns_addr = "169.254.%d.2" % x
        self._made = []
        try:
            self._setup()
        except subprocess.CalledProcessError as e:
            self.close()
            fail_or_skip("cannot make a network namespace here: %s" % (e.stderr or e).strip())

    def _setup(self):
        _run("ip", "netns", "add", self.ns)
        self._made.append("ns")
        _run("ip", "link", "add", self.veth_host, "type", "veth", "peer", "name", self.veth_ns)
        self._made.append("veth")
        _run("ip", "link", "set", self.veth_ns, "netns", self.ns)
        _run("ip", "addr", "add", self.host_addr + "/30", "dev", self.veth_host)
        _run("ip", "link", "set", self.veth_host, "up")
        _run("ip", "netns", "exec", self.ns, "ip", "addr", "add", self.ns_addr + "/30", "dev", self.veth_ns)
        _run("ip", "netns", "exec", self.ns, "ip", "link", "set", self.veth_ns, "up")
        _run("ip", "netns", "exec", self.ns, "ip", "link", "set", "lo", "up")

    def prefix(self):
        """What goes before a command to run it inside the namespace."""
        return ["ip", "netns", "exec", self.ns]

    def cut(self):
        _run("ip", "link", "set", self.veth_host, "down")

    def restore(self):
        _run("ip", "link", "set", self.veth_host, "up")

    def close(self):
        if "veth" in self._made:
            _run("ip", "link", "del", self.veth_host, check=False)   # takes its peer with it
        if "ns" in self._made:
            _run("ip", "netns", "del", self.ns, check=False)
        self._made = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()




# --- the node and the recorder -------------------------------------------------------------------

class NodeProcess:
    """The node firmware on the virtual board (`python -m sim node`), optionally inside a namespace."""

    def __init__(self, broker_addr, device, board_dir, settings=(), prefix=(), extra=(), env=None):
        """`extra`: more arguments for `sim node` (--user, --ca); `env`: more environment variables
        (PICO_MQTT_PASSWORD)."""
        board_dir = Path(board_dir)
        board_dir.mkdir(parents=True, exist_ok=True)
        args = [*prefix, PY, "-m", "sim", "node", "--broker", broker_addr, "--id", device,
                "--board", str(board_dir), "--heap", NODE_HEAP, *extra]
        for s in settings:
            args += ["--set", s]
        self.device = device
        self.board = Board(board_dir)
        self.presses = {"a": 0, "b": 0}     # made with tap(): what the node must count
        self._released = 0.0                # time.monotonic() of tap()'s last release
        self.child = Child(args, cwd=ROOT, env={**os.environ, **env} if env else None)

    def wait_connected(self, session=1, timeout=20):
        self.child.wait_line("session %d" % session, timeout)

    def wait_line_after(self, text, since, timeout):
        """(arrival time, line) of the first line with `text` printed at or after `since`
        (time.monotonic()), waiting at most `timeout` s for it."""
        return wait_until(lambda: self.child.first_line_after(text, since) or self._ended(), timeout,
                          "a line with %r from the node; it printed:\n%s" % (text, self.child.output()[-4000:]))

    def _ended(self):
        if self.child.p.poll() is not None:
            raise AssertionError("the node ended (status %s):\n%s" % (self.child.p.returncode,
                                                                      self.child.output()[-4000:]))
        return None

    def alive(self):
        return self.child.p.poll() is None

    def tap(self, pin, times=1, hold=0.08, gap=0.12):
        """Press an active-low button `times` times as a finger does: held `hold` s, and released at
        least `gap` s before the next press, this call's or the next one's (both the point: a person's
        timing, well over DEBOUNCE_MS). Returns at the last release: counted() waits for the node."""
        button = {BUTTON_A: "a", BUTTON_B: "b"}[pin]
        for _ in range(times):
            rest = self._released + gap - time.monotonic()
            if rest > 0:
                time.sleep(rest)    # the finger's rest between presses
            self.board.press(pin, hold=hold)
            self._released = time.monotonic()
            self.presses[button] += 1

    def counted(self, timeout=5):
        """Until the node has counted every press made with tap() and seen the buttons up again: its
        state line (every LOG_S, printed online or not) says so. Fails at `timeout` s if it does not."""
        if self.presses == {"a": 0, "b": 0}:
            return
        counted = re.compile(r" a=0 b=0 presses=%d/%d " % (self.presses["a"], self.presses["b"]))
        wait_until(lambda: any(counted.search(line) for line in list(self.child.lines)) or self._ended(),
                   timeout, lambda: "the node to count presses %d/%d with both buttons up; it printed:\n%s"
                   % (self.presses["a"], self.presses["b"], self.child.output()[-3000:]))

    def stop(self):
        return self.child.stop()


class Recorder:
    """`python -m monitor record` into `path`, reconnecting by itself across broker restarts."""

    def __init__(self, broker_addr, path, reconnect_for=60):
        self.broker_addr = broker_addr
        self.path = Path(path)
        self.rec = Recording(self.path)
        self.child = Child([PY, "-m", "monitor", "record", "--broker", broker_addr, "--out", str(path),
                            "--quiet", "--reconnect-for", str(reconnect_for)], cwd=ROOT)
        self.child.wait_line("recording", 20)
        self._probes = itertools.count(1)

    def wait_subscribed(self, timeout=20):
        """Until the recorder is subscribed (again): probes published on a topic it records, one every
        0.3 s, until one of them lands in the recording. The probes use their own device id."""
        host, port = self.broker_addr.rsplit(":", 1)
        deadline = time.monotonic() + timeout
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="probe-%d" % os.getpid(),
                             protocol=mqtt.MQTTv311)
        try:
            wait_until(lambda: _try_connect(client, host, int(port)), timeout, "the broker at %s" % self.broker_addr)
            client.loop_start()
            while True:
                n = next(self._probes)
                client.publish("pico/gate-probe/cmd", json.dumps({"id": "probe-%d" % n, "get": True}), qos=1)
                seen = lambda: any(m.get("id") == "probe-%d" % n for m in self.rec.messages("gate-probe", "cmd"))
                try:
                    wait_until(seen, 0.3, "probe")
                    return
                except AssertionError:
                    if time.monotonic() > deadline:
                        raise AssertionError("the recorder did not subscribe again within %.0f s:\n%s"
                                             % (timeout, self.child.output())) from None
        finally:
            client.loop_stop()
            try:
                client.disconnect()
            except Exception:  # noqa: BLE001 (best effort)
                pass

    def stop(self):
        return self.child.stop()


def _try_connect(client, host, port):
    try:
        client.connect(host, port, 10)
        return True
    except OSError:
        return False


# --- what the tests read -------------------------------------------------------------------------

def max_led_gap(board, start, end):
    """The longest time (s) between two LED changes from board time `start` to `end`, counting the
    last change before `start`; with the time since the last change if it is older than `end`."""
    times = [t for t, _, _ in board.changes(LED)]
    before = [t for t in times if t < start]
    inside = [t for t in times if start <= t <= end]
    points = before[-1:] + inside + [end]
    return max(b - a for a, b in zip(points, points[1:]))


def events_by_boot(recording, device):
    """{boot: {ver: [event, ...]}} of the live events."""
    out = {}
    for m in recording.messages(device, "event"):
        if not m["_retain"]:
            out.setdefault(m["boot"], {}).setdefault(m["ver"], []).append(m)
    return out


def check_events_complete(recording, device):
    """Every event of every boot present, ver 1..N with no gap, each once or as a duplicate of one
    message (same seq); returns {boot: N}."""
    result = {}
    for boot, by_ver in events_by_boot(recording, device).items():
        n = max(by_ver)
        missing = sorted(set(range(1, n + 1)) - set(by_ver))
        assert not missing, "boot %s: events with ver %s never arrived" % (boot, missing)
        for ver, copies in by_ver.items():
            seqs = {c["seq"] for c in copies}
            assert len(seqs) == 1, "boot %s: ver %d arrived as different messages %s" % (boot, ver, copies)
            bodies = {json.dumps({k: v for k, v in c.items() if k not in ("_t", "sess")}, sort_keys=True)
                      for c in copies}
            assert len(bodies) == 1, "boot %s: copies of ver %d differ: %s" % (boot, ver, copies)
        result[boot] = n
    return result


def live_seqs(recording, device, boot):
    return sorted({m["seq"] for m in recording.messages(device) if not m["_retain"]
                   and m.get("boot") == boot and "seq" in m})


def monitor_check(path, device):
    """`python -m monitor check --json` on the recording: the kinds of the findings about `device`
    (and about no device: bad lines), wherever the report puts them."""
    out = subprocess.run([PY, "-m", "monitor", "check", str(path), "--json"], capture_output=True,
                         text=True, timeout=60, cwd=ROOT)
    try:
        report = json.loads(out.stdout)
    except ValueError:
        raise AssertionError("monitor check did not print JSON (status %d):\n%s%s"
                             % (out.returncode, out.stdout[-3000:], out.stderr[-3000:])) from None
    kinds = []
    for f in report.get("findings", []):
        kinds.append(f.get("kind"))
    dev = report.get("devices", {}).get(device, {})
    _collect_kinds(dev, kinds)
    return kinds, report


def _collect_kinds(value, kinds):
    if isinstance(value, dict):
        if "kind" in value and isinstance(value["kind"], str) and ("error" in value or "detail" in value):
            kinds.append(value["kind"])
        for v in value.values():
            _collect_kinds(v, kinds)
    elif isinstance(value, list):
        for v in value:
            _collect_kinds(v, kinds)


BAD_FINDINGS = ("lost", "inconsistent", "malformed")


# --- one node through outages --------------------------------------------------------------------

STALL_BOUND_S = FAST_PERIOD_S + 0.050   # the longest the LED may wait between changes in fast mode
TAPS_PER_OUTAGE = 3


class OutageRun:
    """The node in fast mode with a recorder, and what was done to it so far. Its methods assert what
    must hold whatever the outage (a new session of the same boot, nothing lost) and return what is
    measured (the longest LED gap, how long it took to notice), for the caller to judge."""

    def __init__(self, node, recorder):
        self.node = node
        self.device = node.device
        self.recorder = recorder
        self.rec = recorder.rec
        self.presses = {"a": 0, "b": 0}
        self.sess = 1
        self.gaps = []
        status = self.rec.wait_for(self.device, "status", lambda m: m["online"] is True and m["sess"] == 1, 20)
        self.boot = status["boot"]
        # Button B once: fast mode, the blink whose gaps the stall check measures.
        node.tap(BUTTON_B)
        self.presses["b"] += 1
        self.rec.wait_for(self.device, "event", lambda m: m["kind"] == "mode" and m["mode"] == "fast", 10)
        # ...all three of its events (press, mode, release) published before any outage begins
        self.rec.wait_for(self.device, "event", lambda m: m["kind"] == "button" and m["button"] == "b"
                          and not m["pressed"], 10, "the release of button B")

    def tap_a(self, n):
        self.node.tap(BUTTON_A, n)
        self.presses["a"] += n

    def came_back(self, since_board, what):
        """After an outage: a new session of the same boot says online, every press made meanwhile
        arrives, and a fresh snapshot follows. Returns the status online and the longest LED gap (s)
        from board time `since_board` until then."""
        dev = self.device
        sess = self.sess + 1
        self.node.counted()
        self.node.wait_connected(sess, 30)
        status = self.rec.wait_for(dev, "status", lambda m: m["online"] is True and m["sess"] == sess, 10)
        assert status["boot"] == self.boot, "the node rebooted during the %s" % what
        presses = self.presses["a"]
        self.rec.wait_for(dev, "event", lambda m: m["kind"] == "button" and m["button"] == "a"
                          and not m["pressed"] and m["presses"] == presses, 10,
                          "the release of press %d of button A, made during the %s" % (presses, what))
        snap = self.rec.wait_for(dev, "state", lambda m: m["sess"] == sess and not m["_retain"], 10,
                                 "a fresh snapshot in session %d" % sess)
        assert snap["presses"]["a"] >= presses
        gap = max_led_gap(self.node.board, since_board, self.node.board.now())
        self.gaps.append(gap)
        self.sess = sess
        return status, gap

    def wills(self, sess):
        """The Last Wills recorded for session `sess` (a will has no seq)."""
        return [m for m in self.rec.messages(self.device, "status")
                if m["online"] is False and m.get("sess") == sess and "seq" not in m]

    def finish(self):
        """Stop the node cleanly and check the whole recording: every event of the boot (ver 1..N, each
        once or as a duplicate of one message), every seq, the presses made, no bad finding from
        `monitor check`. Returns a summary."""
        dev = self.device
        want = dict(self.presses)
        self.node.counted()
        snap = self.rec.wait_for(dev, "state", lambda m: m["presses"] == want and not m["_retain"], 10,
                                 "a snapshot with presses %s" % want)
        assert snap["boot"] == self.boot and snap["dropped"] == 0
        assert self.node.stop() == 0, self.node.child.output()[-3000:]
        self.rec.wait_for(dev, "status", lambda m: m["online"] is False and "seq" in m, 10, "the goodbye")
        self.recorder.stop()
        n = check_events_complete(self.rec, dev)
        assert list(n) == [self.boot]
        seqs = live_seqs(self.rec, dev, self.boot)
        assert seqs == list(range(1, seqs[-1] + 1)), "seq numbers missing: %s" % sorted(
            set(range(1, seqs[-1] + 1)) - set(seqs))
        kinds, report = monitor_check(self.rec.path, dev)
        bad = [k for k in kinds if k in BAD_FINDINGS]
        assert not bad, "monitor check: %s\n%s" % (bad, json.dumps(report, indent=1)[-6000:])
        return {"events": n[self.boot], "seq": seqs[-1], "sessions": self.sess, "findings": sorted(set(kinds)),
                "gaps_ms": [round(g * 1000) for g in self.gaps]}


def broker_outage(run, broker, gate, sig, taps=TAPS_PER_OUTAGE):
    """Kill the broker with `sig` while the node is connected through `gate`, press button A `taps`
    times, start the broker again, let the node through once the recorder is subscribed again, and
    wait until everything is back. Returns {"sess": the lost session, "gap": longest LED gap (s)}."""
    node = run.node
    sess = run.sess
    since = node.board.now()
    t0 = time.monotonic()
    gate.close_gate()
    broker.kill(sig)
    node.wait_line_after("link down", t0, 10)
    run.tap_a(taps)
    broker.start()
    run.recorder.wait_subscribed(30)
    refused = gate.refused
    wait_until(lambda: gate.refused > refused, 10, "the node to try again while the gate is shut")
    run.tap_a(1)
    gate.open_gate()
    _, gap = run.came_back(since, "broker outage (%s)" % signal.Signals(sig).name)
    return {"sess": sess, "gap": gap}


def partition_outage(run, net, wait_for_will, taps=TAPS_PER_OUTAGE):
    """Cut the node's network (the broker stays up), press button A `taps` times, wait until the node
    has noticed (and, with `wait_for_will`, until the broker has published the will), restore it and
    wait until everything is back. Returns {"sess", "gap", "noticed": s from the cut to the node's
    "link down", "will": the will or None, "will_after": s from the cut to the will's arrival}."""
    node = run.node
    sess = run.sess
    since = node.board.now()
    t0, wall0 = time.monotonic(), time.time()
    net.cut()
    run.tap_a(taps)
    t_down, _ = node.wait_line_after("link down", t0, 4 * KEEPALIVE_S)
    will = None
    if wait_for_will:
        will = run.rec.wait_for(run.device, "status", lambda m: m["online"] is False and m["sess"] == sess,
                                6 * KEEPALIVE_S, "the Last Will of session %d" % sess)
    run.tap_a(1)
    net.restore()
    _, gap = run.came_back(since, "network partition")
    return {"sess": sess, "gap": gap, "noticed": t_down - t0, "will": will,
            "will_after": will["_t"] - wall0 if will else None}


def wifi_outage(run, taps=TAPS_PER_OUTAGE):
    """Take the board's Wi-Fi down, press button A `taps` times, wait for the node to say so, for the
    will (the node closed its socket without a DISCONNECT) and for a failed attempt to rejoin, then
    let the Wi-Fi up and wait until everything is back. Returns {"sess", "gap", "will"}."""
    node = run.node
    sess = run.sess
    since = node.board.now()
    t0 = time.monotonic()
    node.board.wlan(False)
    node.wait_line_after("wifi: link lost (status -1: connection failed)", t0, 5)
    run.tap_a(taps)
    will = run.rec.wait_for(run.device, "status", lambda m: m["online"] is False and m["sess"] == sess, 5,
                            "the Last Will of session %d" % sess)
    node.wait_line_after("no access point found with that name (status -2)", t0, 5)
    node.board.wlan(True)
    _, gap = run.came_back(since, "Wi-Fi drop")
    return {"sess": sess, "gap": gap, "will": will}
