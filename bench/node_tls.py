#!/usr/bin/env python3
"""What TLS costs the node, beside the same node on plain MQTT with a password, in one run, on one
secure broker (users, the per-device ACL, and a TLS port: tests/broker/secure.py, Mosquitto if
installed, else amqtt), the deployed node (.mpy, deploy.build) on the virtual board:

1. Memory while connected: both nodes at once in the same heap (`--heap`, 320K), pressed and sent
   commands for `--seconds` (20): the node's own `free=` (its logger collects, then reads
   gc.mem_free(), once a second) after connecting and its lowest; and the bytes the interpreter
   process holds from the C library's malloc, read beside it.
2. The smallest heap (bisection, `--step` 4 KiB, between 96K and 320K) in which each connects, is
   pressed and answers every command for `--bisect-seconds` (8): as configured, and with
   HA_DISCOVERY off (building the discovery config at start-up is what the node runs out of first).
3. The connect time as the node logs it, from its `wifi: connected` line to its `mqtt: connected`
   (TCP, TLS handshake, CONNECT, CONNACK, SUBSCRIBE, SUBACK), the median of `--connects` (4) fresh
   boots each, taking turns.

Why malloc too: MicroPython's mbedTLS takes its buffers (16 KiB in, 4 KiB out per connection) through
m_tracked_calloc() from the MicroPython heap only on bare-metal ports (MICROPY_MBEDTLS_CONFIG_BARE_METAL:
the Pico's rp2 port); the unix port's mbedTLS calls the C library's calloc, so there `free=` never sees
them. The bench therefore preloads a small counter of malloc'd bytes into each interpreter (its C source
is below, compiled with `cc` when the bench runs; without a C compiler that column says so): the TLS
node's malloc'd bytes minus the plain node's are what mbedTLS holds, which a Pico takes from its heap.

Usage: .venv/bin/python bench/node_tls.py [--heap 320K] [--seconds 20] [--connects 4] [--step 4]
Writes its section ("node-tls") of docs/benchmarks.md; prints its figures as JSON. About 3 minutes.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402

from bench.node_memory import activity, compile_mpy, kib, node_readings  # noqa: E402
from bench.report import write_section  # noqa: E402
from sim import runner  # noqa: E402
from tests.broker.secure import PASSWORDS, running, secure_setup  # noqa: E402

PLAIN, TLS = "pico-a", "pico-b"     # node users of secure_setup(): each may speak only for itself
MONITOR = "laptop"                  # may command every node
CONNECTED = re.compile(r"^\[\s*(\d+)\.(\d+)\] (wifi|mqtt): connected")

# A counter of the bytes a process holds from malloc (usable sizes, so the allocator's rounding is in),
# and their peak, kept in a 16-byte file (MALLOC_COUNT_FILE) mapped shared, which the bench reads while
# the process runs. glibc's __libc_* entry points are called directly: no dlsym, which allocates itself.
MALLOC_COUNTER_C = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static long early[2];               /* [0] held now, [1] the most held; until the file is mapped */
static long *counts = early;

__attribute__((constructor)) static void start(void) {
    const char *path = getenv("MALLOC_COUNT_FILE");
    if (!path) return;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return;
    if (ftruncate(fd, sizeof early) == 0) {
        long *m = mmap(0, sizeof early, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m != MAP_FAILED) { m[0] = early[0]; m[1] = early[1]; counts = m; }
    }
    close(fd);
}

static void held(long n) {
    long now = __atomic_add_fetch(&counts[0], n, __ATOMIC_RELAXED);
    if (now > counts[1]) counts[1] = now;
}

void *malloc(size_t n) { void *p = __libc_malloc(n); if (p) held(malloc_usable_size(p)); return p; }
void *calloc(size_t k, size_t n) { void *p = __libc_calloc(k, n); if (p) held(malloc_usable_size(p)); return p; }
void *memalign(size_t a, size_t n) { void *p = __libc_memalign(a, n); if (p) held(malloc_usable_size(p)); return p; }
void *aligned_alloc(size_t a, size_t n) { return memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) { void *p = memalign(a, n); if (!p) return 12; *out = p; return 0; }
void free(void *p) { if (p) held(-(long)malloc_usable_size(p)); __libc_free(p); }
void *realloc(void *q, size_t n) {
    long old = q ? (long)malloc_usable_size(q) : 0;
    void *p = __libc_realloc(q, n);
    if (p) held((long)malloc_usable_size(p) - old);
    else if (q && n == 0) held(-old);
    return p;
}
"""


def say(text):
    print("node_tls: " + text, file=sys.stderr, flush=True)


# --- the malloc counter ----------------------------------------------------------------------------

def build_counter(workdir):
    """The counter as a shared library in workdir, or None (and why) when it cannot be built here."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None, "no C compiler (cc) to build the malloc counter"
    if not sys.platform.startswith("linux"):
        return None, "the malloc counter needs glibc (Linux)"
    src, lib = workdir / "malloc_count.c", workdir / "malloc_count.so"
    src.write_text(MALLOC_COUNTER_C)
    done = subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", str(lib), str(src)], capture_output=True, text=True)
    if done.returncode:
        return None, "the malloc counter did not build: " + done.stderr.strip().splitlines()[-1:][0]
    return lib, None


class Counted:
    """The env that preloads the counter into one process, and its readings: (held, peak) bytes."""

    def __init__(self, lib, path):
        self.path = path
        self.env = {"LD_PRELOAD": str(lib), "MALLOC_COUNT_FILE": str(path)} if lib else {}

    def read(self):
        try:
            return struct.unpack("qq", self.path.read_bytes()[:16])
        except (OSError, struct.error):
            return None


# --- commands and acks -----------------------------------------------------------------------------

class Commander:
    """One paho client, logged in as the monitor, sending commands to the nodes and keeping the ids of
    their acks (a node's id is used again run after run: acks are matched by command id)."""

    def __init__(self, host, port):
        self.lock = threading.Lock()
        self.sent, self.acked_ids = {}, {}
        self.n = 0
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="node-tls-%d" % os.getpid(),
                             protocol=mqtt.MQTTv311)
        self.c.username_pw_set(MONITOR, PASSWORDS[MONITOR])
        self.c.on_message = self._message
        self.c.connect(host, port, 30)
        self.c.subscribe("pico/+/ack", 1)
        self.c.loop_start()

    def _message(self, client, userdata, msg):
        try:
            cmd_id = json.loads(msg.payload).get("id")
        except (ValueError, AttributeError):
            return
        with self.lock:
            self.acked_ids.setdefault(msg.topic.split("/")[1], set()).add(cmd_id)

    def reset(self, device):
        with self.lock:
            self.sent[device] = set()

    def send(self, device, **fields):
        with self.lock:
            self.n += 1
            cmd_id = "t%d" % self.n
            self.sent.setdefault(device, set()).add(cmd_id)
        self.c.publish("pico/%s/cmd" % device, json.dumps({"id": cmd_id, **fields}), qos=1)

    def acked(self, device):
        """How many of the commands sent since reset(device) were acked."""
        with self.lock:
            return len(self.sent.get(device, set()) & self.acked_ids.get(device, set()))

    def wait_acks(self, sent, seconds=5):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and any(self.acked(d) < n for d, n in sent.items()):
            time.sleep(0.1)

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


# --- the two nodes ---------------------------------------------------------------------------------

class Setup:
    """The broker's ports, the CA, the deployed program and the counter: how to start either node."""

    def __init__(self, broker, folder, program, counter, workdir):
        self.broker, self.ca, self.program = broker, folder / "certs" / "ca.pem", program
        self.counter, self.workdir = counter, workdir
        self.n = 0

    def start(self, kind, heap, settings=()):
        """The deployed node `kind` ("plain" or "tls") in `heap`, config `settings` as (KEY, value)
        pairs on top; (Run, Counted)."""
        self.n += 1
        counted = Counted(self.counter, self.workdir / ("malloc-%s-%d" % (kind, self.n)))
        device = TLS if kind == "tls" else PLAIN
        port = self.broker.tls if kind == "tls" else self.broker.plain
        run = runner.start_node("127.0.0.1:%d" % port, device, settings, program=self.program, heap=heap,
                                login=(device, PASSWORDS[device]), ca=self.ca if kind == "tls" else None,
                                env=counted.env)
        return run, counted


def connect_ms(lines):
    """Milliseconds from the node's `wifi: connected` line to its first `mqtt: connected`, or None."""
    t = {}
    for ln in lines:
        m = CONNECTED.match(ln)
        if m and m.group(3) not in t:
            t[m.group(3)] = int(m.group(1)) * 1000 + int(m.group(2))
    return t["mqtt"] - t["wifi"] if "wifi" in t and "mqtt" in t else None


def connected_run(setup, commander, heap, seconds):
    """Both nodes at once in `heap`, active for `seconds`: free= and malloc'd bytes of each."""
    runs = {kind: setup.start(kind, heap) for kind in ("plain", "tls")}
    devices = {"plain": PLAIN, "tls": TLS}
    out = {}
    try:
        for kind, (run, _) in runs.items():
            commander.reset(devices[kind])
            try:
                run.expect(r"mqtt: connected to", 20)
            except (TimeoutError, runner.Exited):
                say("%s did not connect:\n%s" % (kind, "\n".join(run.lines()[-10:])))
        time.sleep(1.5)             # a logger line with mqtt=up, and the handshake's garbage collected
        at_connect = {kind: c.read() for kind, (_, c) in runs.items()}
        say("%g s of presses and commands, plain and TLS at once, in %s" % (seconds, heap))
        held = {kind: [] for kind in runs}
        sampler_stop = threading.Event()

        def sample():
            while not sampler_stop.wait(1.0):
                for kind, (_, c) in runs.items():
                    r = c.read()
                    if r:
                        held[kind].append(r[0])
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        sent = activity([(devices[k], run) for k, (run, _) in runs.items()], commander, seconds)
        commander.wait_acks(sent)
        sampler_stop.set()
        sampler.join()
        at_end = {kind: c.read() for kind, (_, c) in runs.items()}
    finally:
        for run, _ in runs.values():
            run.stop()
    for kind, (run, _) in runs.items():
        r = node_readings(run.lines())
        out[kind] = {"heap": heap, "connected": r["connected"], "min": r["min"], "samples": r["samples"],
                     "trouble": r["trouble"], "sent": sent[devices[kind]], "acked": commander.acked(devices[kind]),
                     "connect_ms": connect_ms(run.lines()),
                     "malloc_connected": at_connect[kind][0] if at_connect[kind] else None,
                     "malloc_max": max(held[kind]) if held[kind] else None,
                     "malloc_peak": at_end[kind][1] if at_end[kind] else None}
        if r["trouble"]:
            say("%s: %s" % (kind, "\n".join(r["trouble"][:10])))
    return out


def connect_times(setup, heap, n):
    """Connect times (ms) of `n` fresh boots of each node, taking turns."""
    times = {"plain": [], "tls": []}
    for i in range(n):
        for kind in ("plain", "tls"):
            run, _ = setup.start(kind, heap)
            try:
                run.expect(r"mqtt: connected to", 20)
            except (TimeoutError, runner.Exited):
                say("%s did not connect" % kind)
            finally:
                run.stop()
            ms = connect_ms(run.lines())
            if ms is not None:
                times[kind].append(ms)
        say("connects %d/%d: %s" % (i + 1, n, times))
    return times


def runs_in(setup, commander, kind, heap, seconds, settings=()):
    """A short active run: did the node connect, answer every command, and print no trouble? (ok, why)"""
    device = TLS if kind == "tls" else PLAIN
    commander.reset(device)
    run, _ = setup.start(kind, heap, settings)
    try:
        try:
            run.expect(r"mqtt: connected to", 15)
        except (TimeoutError, runner.Exited):
            return False, failure(run.lines(), "did not connect")
        sent = activity([(device, run)], commander, seconds)
        commander.wait_acks(sent)
        alive = run.process.poll() is None
    finally:
        run.stop()
    r = node_readings(run.lines())
    ok = alive and not r["trouble"] and commander.acked(device) >= sent[device] and r["samples"] > 0
    return ok, None if ok else failure(run.lines(), "%d of %d commands acked" % (commander.acked(device),
                                                                                  sent[device]))


def failure(lines, otherwise):
    """Why a run failed, in a few words: its last trouble line, where (the innermost frame of the
    traceback), and whether before or after it first connected."""
    trouble = node_readings(lines)["trouble"]
    if not trouble:
        return otherwise
    frames = [m.groups() for m in (re.search(r'File "([^"]+)", line (\d+)', ln) for ln in lines) if m]
    where = " in %s line %s" % (Path(frames[-1][0]).name, frames[-1][1]) if frames else ""
    when = "while connected" if any("mqtt: connected" in ln for ln in lines) else "before connecting"
    return "%s%s, %s" % (trouble[-1].strip(), where, when)


def smallest_heap(setup, commander, kind, seconds, lo_k, hi_k, step_k, settings=()):
    """The smallest heap, to step_k KiB, in (lo_k, hi_k] that a short active run works in (bisection);
    None when no run in between worked (hi_k itself is taken to work, not run). Returns (that heap, why
    the run one step below it failed)."""
    worked, why = False, None
    while hi_k - lo_k > step_k:
        mid = (lo_k + hi_k) // 2 // step_k * step_k
        ok, failed = runs_in(setup, commander, kind, "%dK" % mid, seconds, settings)
        worked = worked or ok
        say("%s%s in %dK: %s" % (kind, " (%s)" % settings if settings else "", mid,
                                 "runs" if ok else "fails: %s" % failed))
        if ok:
            hi_k = mid
        else:
            lo_k, why = mid, failed
    return (hi_k if worked else None), why


# --- the report ------------------------------------------------------------------------------------

def below(why):
    """What a failed bisection run printed last (failure()), short, for a table cell."""
    if not why:
        return "–"
    when = next((w for w in ("before connecting", "while connected") if why.endswith(w)), "")
    found = re.search(r"MemoryError: [a-z ]+, allocating \d+ bytes( in \S+ line \d+)?", why)
    if not found:
        return "`%s`" % why.replace("|", "/")[:120]
    text = found.group(0)
    logged = re.match(r"\[\s*[\d.]+\] (\w+): ", why)
    if logged:
        text += "`, logged by `%s" % logged.group(1)
    return "`%s`, %s" % (text, when) if when else "`%s`" % text


def median(values):
    return statistics.median(values) if values else None


def render(res):
    c = res["connected"]
    p, t = c["plain"], c["tls"]
    rows = []
    for label, r in (("plain MQTT, password", p), ("TLS, password", t)):
        rows.append("| %s | %s | %s | %s | %s/%s | %s |" % (
            label, r["heap"], kib(r["connected"]) if r["connected"] else "–", kib(r["min"]) if r["min"] else "–",
            r["acked"], r["sent"], "none" if not r["trouble"] else "**%d lines**" % len(r["trouble"])))
    d_conn = p["connected"] - t["connected"] if p["connected"] and t["connected"] else None
    d_min = p["min"] - t["min"] if p["min"] and t["min"] else None
    counted = res.get("malloc_note") is None and p["malloc_connected"] is not None and t["malloc_connected"] is not None
    if counted:
        m_conn = t["malloc_connected"] - p["malloc_connected"]
        m_max = t["malloc_max"] - p["malloc_max"]
        m_peak = t["malloc_peak"] - p["malloc_peak"]
        malloc_text = (
            "Beside it, the bytes each interpreter held from the C library's malloc (the counter above): "
            "**the TLS node held %s KiB more once connected** (%s KiB more at the most over the run), and at "
            "its peak, during the handshake, %s KiB more. That is mbedTLS: its record buffers (16 KiB in and "
            "4 KiB out, `MBEDTLS_SSL_IN_CONTENT_LEN` and `OUT_CONTENT_LEN` in MicroPython's "
            "`extmod/mbedtls/mbedtls_config_common.h`, shared by every port), its session and its "
            "parsed CA certificate."
            % (kib(m_conn), kib(m_max), kib(m_peak)))
    else:
        m_conn = m_peak = None
        malloc_text = "The bytes mbedTLS holds through malloc were not counted in this run: %s." % res.get(
            "malloc_note", "no reading")
    b = res["bisect"]
    ct = res["connect_ms"]
    mp, mt = median(ct["plain"]), median(ct["tls"])
    parts = [
        "**These are unix-port (64-bit) figures, and on the unix port the TLS buffers are not in the "
        "MicroPython heap.** MicroPython's mbedTLS takes its memory from the MicroPython heap (through "
        "`m_tracked_calloc`) only on bare-metal ports such as the Pico's rp2; the unix port's mbedTLS calls "
        "the C library's `calloc`. So `free=` on the virtual board shows only what TLS costs the node's "
        "Python side (the `SSLContext`, the wrapped socket, the CA's bytes), and the bench counts the rest "
        "apart, in the C library (a malloc counter preloaded into each interpreter, built from the source "
        "in `bench/node_tls.py`).",
        "The deployed node (`.mpy`, as `python -m deploy` puts it on a board) on the virtual board, logged in "
        "with a password (users and the per-device ACL of `tests/broker/secure.py`) to one %s broker: once on "
        "its plain port, once on its TLS port (certificate verified against the CA and the host name)."
        % res["broker"],
        "### Memory while connected\n\n"
        "Both nodes at once, each in a %s heap, pressed (button A, then B) and sent a command in turn for "
        "%g s. Free heap in KiB as the node's logger reads it once a second (`gc.collect()`, then "
        "`gc.mem_free()`): its first reading with the link up, and the lowest over the run.\n\n"
        "| node | heap | free after connecting | lowest free | commands acked | trouble |\n"
        "|---|---|---|---|---|---|\n%s\n\n"
        "In the MicroPython heap, TLS costs %s KiB after connecting (%s KiB at the lowest). %s"
        % (p["heap"], res["seconds"], "\n".join(rows), kib(d_conn) if d_conn is not None else "–",
           kib(d_min) if d_min is not None else "–", malloc_text),
        "### The smallest heap\n\n"
        "A bisection (to %d KiB) over runs of %g s each: the node connects, is pressed and sent commands, "
        "answers every one, and prints no `MemoryError`, crashed task or traceback.\n\n"
        "| node | smallest heap (`--heap`), unix port | one step below it |\n|---|---|---|\n%s\n\n"
        "%sOn the unix port the two can differ by no more than TLS's Python side and the bisection's step: "
        "the mbedTLS buffers are outside this heap. On a Pico the heap holds them too (below)."
        % (res["step"], res["bisect_seconds"], "\n".join(
            "| %s | %s | %s |" % (label, "%dK" % b[k] if b.get(k) else "more than %dK" % b["hi"], below(b.get(k + "_below")))
            for k, label in (("plain", "plain MQTT, password"), ("tls", "TLS, password"),
                             ("plain_noha", "plain MQTT, password, `HA_DISCOVERY = False`"),
                             ("tls_noha", "TLS, password, `HA_DISCOVERY = False`")) if k in b),
           "As configured, both fail one step down before they connect: what sets their smallest heap here "
           "is the node's start-up, not its connection (the bisection's runs are short, and a step of it is "
           "within its noise: compare the rows with and without discovery). %s"
           % (("Without discovery, the TLS node needs %dK more than the plain one (%dK against %dK). "
               % (b["tls_noha"] - b["plain_noha"], b["tls_noha"], b["plain_noha"]))
              if b.get("tls_noha") and b.get("plain_noha") else "") if all("before connecting" in (b.get(k + "_below") or "")
                                                            for k in ("plain", "tls")) else ""),
        "### Connect time\n\n"
        "From the node's `wifi: connected` line to its `mqtt: connected` (TCP, then the TLS handshake, "
        "CONNECT and CONNACK, SUBSCRIBE and SUBACK), as the node logs them, in %s, over %d connects of each "
        "(fresh boots, taking turns, and the run above): median **%s ms plain, %s ms with TLS** (each: %s; "
        "%s). On loopback the handshake's ECDHE and ECDSA on P-256 run at a desktop CPU's speed: a Pico's "
        "RP2350 does the same arithmetic far more slowly, and its other tasks wait for it, once per connect "
        "(docs/security.md, \"The node\"). This figure does not carry over to a board."
        % (res["heap"], len(ct["tls"]), "%.0f" % mp if mp is not None else "–",
           "%.0f" % mt if mt is not None else "–", ", ".join(map(str, ct["plain"])),
           ", ".join(map(str, ct["tls"]))),
        "### On a Pico\n\n"
        "The 32-bit port's objects are about half the size of these (pointers and object headers are half "
        "as wide): the Python side of TLS, %s KiB here, is roughly %s KiB there (an estimate). The mbedTLS buffers do not "
        "halve: they are byte arrays of the same configured sizes on every port, and there they come out "
        "of the MicroPython heap. %s"
        % (kib(d_conn) if d_conn is not None else "–", kib(d_conn / 2) if d_conn is not None else "–",
           ("So on a Pico, TLS while connected takes about %s KiB of its heap (%s + %s), and about %s KiB "
            "more for a moment during each handshake (figures of this unix build, whose mbedTLS structures "
            "hold 64-bit pointers: a little less there). The smallest heaps above do not include the "
            "mbedTLS part: on a Pico, it comes on top of the plain node's needs."
            % (kib(d_conn / 2 + m_conn), kib(d_conn / 2), kib(m_conn), kib(m_peak - m_conn))
            if counted and d_conn is not None else "")),
    ]
    return "\n\n".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--heap", default="320K", help="both nodes' heap while connected and for the connects (320K)")
    ap.add_argument("--seconds", type=float, default=20, help="seconds of activity while connected (20)")
    ap.add_argument("--connects", type=int, default=4, help="fresh boots of each node for the connect time (4)")
    ap.add_argument("--bisect-seconds", type=float, default=8, help="each bisection run's length (8)")
    ap.add_argument("--step", type=int, default=4, choices=(4, 8), help="the bisection's step in KiB (4)")
    ap.add_argument("--from-json", metavar="FILE", help="only write the section again from a run's printed JSON")
    args = ap.parse_args()
    if args.from_json:
        write_section("node-tls", "TLS on the node (MicroPython)", render(json.loads(Path(args.from_json).read_text())),
                      "bench/node_tls.py")
        return 0
    try:
        runner.parse_heap(args.heap)
    except ValueError as e:
        ap.error(str(e))
    started = time.monotonic()
    kind = "mosquitto" if shutil.which("mosquitto", path="/usr/sbin:/usr/bin:/usr/local/sbin") else "amqtt"
    res = {"broker": kind, "heap": args.heap, "seconds": args.seconds, "step": args.step,
           "bisect_seconds": args.bisect_seconds}
    with tempfile.TemporaryDirectory(prefix="node-tls-") as tmp, secure_setup() as folder:
        tmp = Path(tmp)
        counter, why = build_counter(tmp)
        if why:
            say(why)
            res["malloc_note"] = why
        program = compile_mpy(tmp / "deployed")
        with running(kind, folder) as broker:
            commander = Commander("127.0.0.1", broker.plain)
            try:
                setup = Setup(broker, folder, program, counter, tmp)
                res["connected"] = connected_run(setup, commander, args.heap, args.seconds)
                res["connect_ms"] = connect_times(setup, args.heap, args.connects)
                for k in ("plain", "tls"):     # the long run's connect is one more sample
                    if res["connected"][k]["connect_ms"] is not None:
                        res["connect_ms"][k].append(res["connected"][k]["connect_ms"])
                lo, hi = 96, 320    # 320K: where the connected run ran
                res["bisect"] = {"hi": hi}
                # As configured (Home Assistant discovery on), and without it, whose building at start-up
                # is what the node as configured runs out of first.
                for suffix, settings in (("", ()), ("_noha", (("HA_DISCOVERY", False),))):
                    for k in ("plain", "tls"):
                        res["bisect"][k + suffix], res["bisect"][k + suffix + "_below"] = smallest_heap(
                            setup, commander, k, args.bisect_seconds, lo, hi, args.step, settings)
            finally:
                commander.close()
    res["wall_s"] = round(time.monotonic() - started)
    print(json.dumps(res, indent=1))
    write_section("node-tls", "TLS on the node (MicroPython)", render(res), "bench/node_tls.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
