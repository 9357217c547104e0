#!/usr/bin/env python3
"""The node's memory, in the MicroPython interpreter, beside a bare program that only imports
umqtt.simple and connects (bench/programs/bare/main.py), on the virtual board, against a real broker:

1. The smallest heap (`-X heapsize`) the node runs in, from source (.py: it compiles its sources at
   import) and as deployed (.mpy from mpy-cross; main.py and config.py stay source, as deploy leaves
   them): a bisection over short runs with presses and commands.
2. Free heap after boot, after connecting, and its minimum over a period of presses and commands
   (`--duration`, default 600 s), for .py and .mpy, each in its own heap, beside the bare program in
   the same heaps. The figures are the node's own `free=` (its logger collects, then reads
   gc.mem_free(), once a second) and the bare program's same reading.
3. Bytes allocated per second: the LED task alone, idle and blinking, before and after the memory work
   (bench/programs/led_alloc.py, with gc.mem_alloc()), and the whole node on the virtual board (its
   logger's `alloc=`, from micropython.mem_total()).
4. Bytes a waiting event holds in the outbox (bench/programs/outbox_bytes.py).

Everything is measured on the unix port (64-bit), whose objects are about twice the size of a Pico's
32-bit port's. Target: the deployed (.mpy) node runs the whole period in a 136 KiB heap (issue 9 set 128 KiB
for the firmware before logins, TLS and Home Assistant discovery, which added about 7 KiB here).

Usage: .venv/bin/python bench/node_memory.py [--duration 600] [--heap 128K] [--skip bisect,long,...]
Writes its section ("node-memory") of docs/benchmarks.md. Uses Mosquitto if installed, else amqtt.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402

from bench.report import write_section  # noqa: E402
from deploy import build  # noqa: E402
from deploy.errors import DeployError  # noqa: E402
from sim import deps, nodeconfig, runner  # noqa: E402
from sim.pins import Board  # noqa: E402
from tests.outage_harness import BrokerProcess  # noqa: E402

PROGRAMS = ROOT / "bench" / "programs"
NODE = ROOT / "node"
TARGET_HEAP = "136K"
STEPS = ("bisect", "long", "plain", "led", "outbox", "board")
FREE = re.compile(r"free=(\d+)(?: alloc=(\d+))?")
TROUBLE = ("MemoryError", "crashed", "Traceback")


def say(text):
    print("node_memory: " + text, file=sys.stderr, flush=True)


def kib(n):
    return "%.1f" % (n / 1024)


def heap_bytes(text):
    runner.parse_heap(text)
    n, unit = re.fullmatch(r"(\d+)([KM]?)", text.upper()).groups()
    return int(n) * {"": 1, "K": 1024, "M": 1 << 20}[unit]


# --- the deployed set and the programs -------------------------------------------------------------

def compile_mpy(dest):
    """What deploy puts on a board, compiled by deploy itself (deploy/build.py), as a program folder:
    returns its main.py."""
    try:
        return build.program_folder(dest, deps.lib_dir() / "umqtt" / "simple.py")
    except DeployError as e:
        sys.exit("node_memory: %s" % e)


def bare_program(dest, mpy):
    """The bare program in dest, its umqtt.simple in dest/lib as .mpy (else found as source on the
    board's path)."""
    dest.mkdir(parents=True)
    shutil.copy(PROGRAMS / "bare" / "main.py", dest / "main.py")
    if mpy:
        (dest / "lib" / "umqtt").mkdir(parents=True)
        build.compile_mpy(build.mpy_cross_command(), deps.lib_dir() / "umqtt" / "simple.py",
                          dest / "lib" / "umqtt" / "simple.mpy")
    return dest / "main.py"


def plain(program, *args, path=(NODE / "lib",)):
    """Run a bench program in the plain interpreter (no virtual board); its one JSON line."""
    env = {**os.environ, "MICROPYPATH": os.pathsep.join([*map(str, path), str(deps.lib_dir()), ".frozen"])}
    out = subprocess.run([str(deps.find_micropython()), str(PROGRAMS / program), *map(str, args)],
                         capture_output=True, text=True, env=env, timeout=600)
    if out.returncode:
        raise RuntimeError("%s failed:\n%s%s" % (program, out.stdout, out.stderr))
    return json.loads(out.stdout.strip().splitlines()[-1].split(": ", 1)[1])


# --- activity --------------------------------------------------------------------------------------

class Commander:
    """One paho client sending commands to the nodes and counting their acks."""

    def __init__(self, host, port):
        self.acks = {}
        self.lock = threading.Lock()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="node-memory-%d" % os.getpid(),
                             protocol=mqtt.MQTTv311)
        self.c.on_message = self._message
        self.c.connect(host, port, 30)
        self.c.subscribe("pico/+/ack", 1)
        self.c.loop_start()
        self.n = 0

    def _message(self, client, userdata, msg):
        with self.lock:
            device = msg.topic.split("/")[1]
            self.acks[device] = self.acks.get(device, 0) + 1

    def send(self, device, **fields):
        self.n += 1
        self.c.publish("pico/%s/cmd" % device, json.dumps({"id": "m%d" % self.n, **fields}), qos=1)

    def acked(self, device):
        with self.lock:
            return self.acks.get(device, 0)

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


COMMANDS = ({"mode": "fast"}, {"led": "on"}, {"get": True}, {"led": "off"}, {"led": "auto"},
            {"mode": "slow"}, {"led": "auto", "mode": "fast"}, {"get": True})


def activity(runs, commander, seconds, stop_early=None):
    """Presses of A and B and commands, taking turns, for `seconds`, on every node run given as
    (device, Run). Returns how many commands each was sent."""
    sent = {device: 0 for device, _ in runs}
    end = time.monotonic() + seconds
    turn = 0
    while time.monotonic() < end:
        for device, run in runs:
            if run.process.poll() is not None:
                continue
            if turn % 3 == 0:
                run.board.press("GP14", hold=0.12)
            elif turn % 3 == 1:
                run.board.press("GP13", hold=0.08)
            else:
                commander.send(device, **COMMANDS[(turn // 3) % len(COMMANDS)])
                sent[device] += 1
        turn += 1
        if stop_early and stop_early():
            break
        time.sleep(0.4)
    return sent


# --- readings from a run ---------------------------------------------------------------------------

def node_readings(lines):
    """From a node's output: free= of its first logger line, of its first with mqtt=up, the minimum,
    the alloc= per second (median of the lines after connecting), and trouble lines."""
    frees, allocs, first, up = [], [], None, None
    trouble = [ln for ln in lines if any(t in ln for t in TROUBLE)]
    for ln in lines:
        m = FREE.search(ln) if " state: " in ln else None
        if not m:
            continue
        f = int(m.group(1))
        frees.append(f)
        first = f if first is None else first
        if up is None and "mqtt=up" in ln:
            up = f
        elif up is not None and m.group(2):
            allocs.append(int(m.group(2)))
    return {"boot": first, "connected": up, "min": min(frees) if frees else None, "samples": len(frees),
            "alloc_per_s": sorted(allocs)[len(allocs) // 2] if allocs else None, "trouble": trouble}


def bare_readings(lines):
    frees = [int(m.group(1)) for m in (re.search(r"free=(\d+)", ln) for ln in lines if ln.startswith("bare:")) if m]
    boot = next((int(ln.split("free=")[1]) for ln in lines if ln.startswith("bare: boot")), None)
    conn = next((int(ln.split("free=")[1]) for ln in lines if ln.startswith("bare: connected")), None)
    allocs = [int(m.group(1)) for m in (re.search(r"alloc=(\d+)", ln) for ln in lines) if m][1:]
    return {"boot": boot, "connected": conn, "min": min(frees) if frees else None, "samples": len(frees),
            "alloc_per_s": sorted(allocs)[len(allocs) // 2] if allocs else None,
            "trouble": [ln for ln in lines if any(t in ln for t in TROUBLE)]}


def start_node(broker, device, program, heap):
    return runner.start_node(broker.addr, device, program=program, heap=heap)


def node_ok(run, device, commander, seconds):
    """A short run with activity: did the node connect, answer every command, and print no trouble?"""
    try:
        run.expect(r"connected to", 15)
    except (TimeoutError, runner.Exited):
        return False
    sent = activity([(device, run)], commander, seconds)
    deadline = time.monotonic() + 5
    while commander.acked(device) < sent[device] and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = run.process.poll() is None
    r = node_readings(run.lines())
    return alive and not r["trouble"] and commander.acked(device) >= sent[device] and r["samples"] > 0


def smallest_heap(broker, commander, program, label, seconds, lo_k=32, hi_k=512, step_k=4):
    """The smallest heap, to step_k KiB, the node runs a short active run in (bisection)."""
    while hi_k - lo_k > step_k:
        mid = (lo_k + hi_k) // 2 // step_k * step_k
        device = "mem-bisect-%s-%d" % (label, mid)
        run = start_node(broker, device, program, "%dK" % mid)
        try:
            ok = node_ok(run, device, commander, seconds)
        finally:
            run.stop()
        say("%s in %dK: %s" % (label, mid, "runs" if ok else "fails"))
        if ok:
            hi_k = mid
        else:
            lo_k = mid
    return hi_k


# --- the node without the virtual board -------------------------------------------------------------

def start_plain(broker, device, mpy_main, heap, workdir):
    """The deployed node in the plain interpreter, with bench/programs/plain/machine.py (pins that
    allocate nothing) in place of the virtual board's modules; its Run."""
    overrides = workdir / ("plain-" + device)
    overrides.mkdir(parents=True, exist_ok=True)
    # No Wi-Fi: the plain interpreter has no `network`; the link runs on the host's network.
    (overrides / "config_local.py").write_text(nodeconfig.config_local(broker.addr, device, [("WIFI_SSID", None)]))
    home = mpy_main.parent
    path = [overrides, PROGRAMS / "plain", home, home / "lib", ".frozen"]
    env = {**os.environ, "MICROPYPATH": os.pathsep.join(map(str, path))}
    process = subprocess.Popen([str(deps.find_micropython()), "-X", "heapsize=" + runner.parse_heap(heap),
                                str(mpy_main)], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, bufsize=1, errors="replace")
    return runner.Run(process, Board(overrides))


def plain_ok(broker, commander, mpy_main, heap, workdir, seconds):
    device = "mem-plain-%s" % heap
    run = start_plain(broker, device, mpy_main, heap, workdir)
    try:
        run.expect(r"connected to", 15)
        end = time.monotonic() + seconds
        n = 0
        while time.monotonic() < end:
            commander.send(device, **COMMANDS[n % len(COMMANDS)])
            n += 1
            time.sleep(0.3)
        deadline = time.monotonic() + 5
        while commander.acked(device) < n and time.monotonic() < deadline:
            time.sleep(0.1)
        ok = commander.acked(device) >= n and run.process.poll() is None
    except (TimeoutError, runner.Exited):
        ok = False
    finally:
        run.stop()
    return ok and not node_readings(run.lines())["trouble"]


def plain_node(broker, commander, mpy_main, workdir, seconds):
    """The smallest heap of the node without the board's modules, and its allocation per second idle
    (the default: led auto, slow blink), blinking fast, and steady (led off)."""
    lo, hi = 32, 256
    while hi - lo > 4:
        mid = (lo + hi) // 2 // 4 * 4
        ok = plain_ok(broker, commander, mpy_main, "%dK" % mid, workdir, 4)
        say("plain .mpy in %dK: %s" % (mid, "runs" if ok else "fails"))
        lo, hi = (lo, mid) if ok else (mid, hi)
    device = "mem-plain-rates"
    run = start_plain(broker, device, mpy_main, "512K", workdir)
    rates = {}
    try:
        run.expect(r"connected to", 15)
        for phase, fields in (("idle", None), ("fast", {"mode": "fast"}), ("steady", {"led": "off"})):
            if fields:
                commander.send(device, **fields)
            time.sleep(1.5)
            start = len(run.lines())
            time.sleep(seconds)
            allocs = [int(m.group(2)) for m in (FREE.search(ln) for ln in run.lines()[start:]) if m and m.group(2)]
            rates[phase] = sorted(allocs)[len(allocs) // 2] if allocs else None
    finally:
        run.stop()
    return {"smallest": hi, "rates": rates, "seconds": seconds,
            "trouble": node_readings(run.lines())["trouble"]}


# --- the report ------------------------------------------------------------------------------------

def cell(value):
    return "–" if value is None else kib(value)


def render(res, args):
    parts = []
    if "bisect" in res:
        b = res["bisect"]
        parts.append("### The smallest heap\n\nA bisection (to 4 KiB) over runs of %d s each on the virtual board: "
                     "the node boots, joins the board's access point (the board's path, as `python -m sim node` runs it), "
                     "connects, is pressed and sent commands, answers every command, and prints no `MemoryError`, "
                     "crashed task or traceback.\n\n"
                     "| program | smallest heap (`--heap`) |\n|---|---|\n"
                     "| node from source (`.py`: compiles its sources at import) | %dK |\n"
                     "| node deployed (`.mpy`) | %dK |\n%s" % (
                         b["seconds"], b["py"], b["mpy"],
                         "| node deployed (`.mpy`), in the plain interpreter without the virtual board's "
                         "modules (`bench/programs/plain/machine.py` in their place) | %dK |\n"
                         % res["plain"]["smallest"] if "plain" in res else ""))
    if "long" in res:
        lg = res["long"]
        rows = []
        for key, label in (("node-mpy", "node, deployed `.mpy`"), ("bare-mpy", "bare umqtt.simple, `.mpy`"),
                           ("node-py", "node from source `.py`"), ("bare-py", "bare umqtt.simple, `.py`")):
            r = lg["runs"].get(key)
            if not r:
                continue
            total = r["heap_total"]
            rows.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                label, r["heap"], cell(r["boot"]), cell(r["connected"]), cell(r["min"]),
                cell(total - r["min"]) if r["min"] is not None else "–",
                "%s/%s" % (r.get("acked", "–"), r.get("sent", "–")) if key.startswith("node") else "–",
                "none" if not r["trouble"] else "**%d lines**" % len(r["trouble"])))
        met = lg["runs"].get("node-mpy")
        clean = met and not met["trouble"] and met["min"] and met.get("acked") == met.get("sent")
        fits = met and heap_bytes(met["heap"]) <= heap_bytes(lg["target_heap"])
        smallest = res.get("bisect", {}).get("mpy")
        if clean and fits:
            verdict = "met"
        elif clean and smallest:
            verdict = ("not met: on the virtual board the deployed node needs %dK, so its row above ran in %s"
                       % (smallest, met["heap"]))
            if "plain" in res:
                verdict += ("; without the board's own modules it runs in %dK (short runs with commands, "
                            "above)" % res["plain"]["smallest"])
        else:
            verdict = "not met"
        parts.append(
            "### Free heap over %d s of activity\n\n"
            "Each program on the virtual board in its own heap (`--heap`), all four at once on one %s broker. "
            "The nodes are pressed (button A, then B, which toggles the blink mode) and sent a command in turn, "
            "one of the three about every half second: %s. Free heap in KiB, as the node's logger reads it once a second "
            "(`gc.collect()`, then `gc.mem_free()`; the bare program does the same): after boot (its first "
            "reading), after connecting, and the lowest over the run. `used` is the heap minus that lowest "
            "reading: what the program holds at most, collected. Between two collections the garbage of the "
            "second comes on top (see the allocation rates below); an allocation that cannot be met is a "
            "`MemoryError`, counted as trouble.\n\n"
            "| program | heap | after boot | after connecting | lowest | used at most | commands acked | trouble |\n"
            "|---|---|---|---|---|---|---|---|\n%s\n\n"
            "**Target: the deployed node runs %d s of activity in a %s heap on the unix port. Measured: %s.**%s"
            % (lg["seconds"], lg["broker"], lg["activity"], "\n".join(rows), lg["seconds"], lg["target_heap"],
               verdict, lg.get("note", "")))
    if "board" in res:
        node = res.get("long", {}).get("runs", {}).get("node-mpy")
        estimate = ""
        if node and node["min"] is not None:
            own = node["heap_total"] - node["min"] - res["board"]["held"]
            estimate = (" The deployed node itself then holds about %s KiB on the unix port: about %s KiB on a "
                        "Pico, an estimate." % (kib(own), kib(own / 2)))
        bd = res["board"]
        parts.append("Of what the node holds on the virtual board, %s KiB are the board's own modules (`machine`, "
                     "`time`, `select`, `network`: Python here, C in a Pico's firmware; "
                     "`bench/programs/board_modules.py`); the bare program holds the `time` one too. A Pico holds "
                     "none of them, and its 32-bit objects take about half the room.%s\n\n"
                     "The board's modules are loaded as bytecode (compiled with mpy-cross into the environment "
                     "when a board starts, `sim/deps.py`), so their source is never compiled in the board's heap. "
                     "A pin read (`machine.Pin.value()`, which reads the host's `pins.in`) allocates %.0f B, and a "
                     "pass of asyncio's wait with nothing ready (the board's `select.poll().ipoll()`, a watchdog "
                     "armed) %.0f B. Before this was so, the modules held 32.3 KiB, compiled from source, a pin read "
                     "allocated about 520 B and a pass about 280 B, and the deployed node needed 160K.\n\n"
                     "The board's modules also add about 180 names to the interpreter's table of names (its "
                     "identifiers, and every one-character string that `s[i]` or `chr()` makes), which grows by "
                     "doubling. With the node's own names the table reaches the size where its next part is one "
                     "block of about 7 KiB, which the node alone (as on a Pico, whose board modules' names are in "
                     "its firmware) would not. Left alone, that block was wanted when a command first brought a "
                     "character the table lacked, with the heap by then too broken up to give 7 KiB in one piece: "
                     "a `MemoryError` in 128K with 19 KiB free. The board therefore names the 95 printable "
                     "characters when it starts (1.6 KiB), so that the table grows while the node is still "
                     "importing, and its own private names are few (`const()`, the host-only part of "
                     "`_simformat` left out of the board's copy)."
                     % (kib(bd["held"]), estimate, bd.get("pin_value", 0), bd.get("poll_pass", 0)))
    if "led" in res:
        d = res["led"]
        rows = []
        for label, key in (("steady (`led off`)", "steady"), ("blinking slow (1 s period)", "slow"),
                           ("blinking fast (200 ms period)", "fast")):
            b, a = d["before"][key], d["after"][key]
            rows.append("| %s | %.0f | %s | %.0f | %s |" % (
                label, b["bytes_per_s"], "%.0f" % b["bytes_per_change"] if b["bytes_per_change"] else "–",
                a["bytes_per_s"], "%.0f" % a["bytes_per_change"] if a["bytes_per_change"] else "–"))
        parts.append(
            "### Bytes allocated per second\n\n"
            "**The LED task** alone in the scheduler, %g s per row with the collector off, counted with "
            "`gc.mem_alloc()` (`bench/programs/led_alloc.py`). Before: the loop as it was (the state read under "
            "`async with shared.lock`, the reading written with `await shared.set_reading`, and "
            "`asyncio.wait_for_ms(led_wake.wait(), ...)` for the next edge). After: the state read and `lit` "
            "written with no await in between (atomic under cooperative scheduling), a plain "
            "`asyncio.sleep_ms` to the next edge, and a watcher task that cuts that sleep short when "
            "`led_wake` is set. An empty scheduler (one task asleep) allocates %.0f B/s.\n\n"
            "| LED | before: B/s | before: B per change | after: B/s | after: B per change |\n"
            "|---|---|---|---|---|\n%s\n"
            % (d["seconds"], d["floor"]["bytes_per_s"], "\n".join(rows)))
    if "plain" in res:
        pl = res["plain"]
        r = pl["rates"]
        bare = res.get("long", {}).get("runs", {}).get("bare-mpy", {}).get("alloc_per_s")
        parts.append(
            "**The whole node**, deployed, in the plain interpreter with `bench/programs/plain/machine.py` "
            "(pins that allocate nothing) in place of the virtual board's modules, whose pin reads allocate: "
            "the heap its logger finds taken between two collections a second apart (`alloc=`), median over "
            "%g s per row, in a 512K heap (so the collector never runs by itself in between). Nothing presses "
            "its buttons; the rows change the LED by command.\n\n"
            "| node | bytes per second |\n|---|---|\n"
            "| idle, LED blinking slow (the default) | %s |\n| blinking fast (`mode fast`) | %s |\n"
            "| steady (`led off`) | %s |\n%s\n"
            "Blinking costs nothing now; with the LED loop as it was, fast blinking added the 22 KB/s of the "
            "table above. What is left is periodic work that does not depend on the LED: the logger's snapshot "
            "and line every second, the sensor's reading every 2 s (a plain store now; it was an `await` of a "
            "coroutine and the lock's generators, about 575 B), the publisher's heartbeat every 5 s (its "
            "`asyncio.wait_for_ms`, about 2 KB a call). Those two figures come from measurements made while "
            "writing this bench, not repeated by it. On the virtual board each pin read adds %.0f B "
            "(`machine.Pin.value()` reads the board's state; the two button pollers read 400 times a second): "
            "a cost of the board, not of the node."
            % (pl["seconds"], r.get("idle"), r.get("fast"), r.get("steady"),
               "| bare umqtt.simple, connected (virtual board) | %s |\n" % bare if bare is not None else "",
               res.get("board", {}).get("pin_value", 0)))
    if "outbox" in res:
        o = res["outbox"]
        rows = []
        for kind, label in (("button", "button (`kind`, `button`, `pressed`, `presses`, `ver`, `ts`)"),
                            ("led", "led by command (`kind`, `led`, `by`, `cmd`, `ver`, `ts`)"),
                            ("mode", "mode by command")):
            r = o[kind]
            rows.append("| %s | %d | %.0f | %.0f | %.0f | about %.0f |" % (
                label, r["json_bytes"], r["per_event"], r["body"], r["outbox"], r["per_event"] / 2))
        parts.append(
            "### Bytes per waiting event in the outbox\n\n"
            "`Outbox(%d)` filled with %d events made by `rules.py` and stamped with `ts` as `Shared` stamps "
            "them; `gc.collect()` and `gc.mem_alloc()` before and after (`bench/programs/outbox_bytes.py`): "
            "what stays allocated per event, its body dict and the outbox's entry. The Pico's 32-bit port "
            "stores the same objects in about half (pointers and object headers are half as wide): an "
            "estimate, not a measurement.\n\n"
            "| event | JSON bytes | unix port: bytes held | of which the body | of which the outbox | Pico (estimate) |\n"
            "|---|---|---|---|---|---|\n%s\n\n"
            "A full outbox of `OUTBOX_SIZE` = %d button events holds about %s KiB on the unix port, about %s KiB "
            "on a Pico."
            % (o["count"], o["count"], "\n".join(rows), res.get("outbox_size", 0),
               kib(res.get("outbox_size", 0) * o["button"]["per_event"]),
               kib(res.get("outbox_size", 0) * o["button"]["per_event"] / 2)))
    return "\n\n".join(parts)


def outbox_size():
    for line in (NODE / "config.py").read_text().splitlines():
        m = re.match(r"OUTBOX_SIZE\s*=\s*(\d+)", line)
        if m:
            return int(m.group(1))
    return 0


def long_run(broker, commander, mpy_main, workdir, heap_mpy, heap_py, args):
    progs = {
        "node-mpy": ("node", mpy_main, heap_mpy),
        "node-py": ("node", None, heap_py),
        "bare-mpy": ("bare", bare_program(workdir / "bare-mpy", True), heap_mpy),
        "bare-py": ("bare", bare_program(workdir / "bare-py", False), heap_py),
    }
    runs = {}
    try:
        for key, (kind, program, heap) in progs.items():
            if kind == "node":
                runs[key] = start_node(broker, "mem-" + key, program, heap)
            else:
                runs[key] = runner.start(program, broker.host, str(broker.port), heap=heap)
        for key, run in runs.items():
            try:
                run.expect(r"connected", 20)
            except (TimeoutError, runner.Exited):
                say("%s did not connect (its trouble is in the table)" % key)
        nodes = [("mem-" + k, runs[k]) for k in runs if k.startswith("node")]
        say("running %d s of activity" % args.duration)
        sent = activity(nodes, commander, args.duration)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(commander.acked(d) < sent[d] for d, _ in nodes):
            time.sleep(0.2)
    finally:
        for run in runs.values():
            run.stop()
    out = {}
    for key, run in runs.items():
        kind, _, heap = progs[key]
        r = node_readings(run.lines()) if kind == "node" else bare_readings(run.lines())
        r["heap"] = heap
        r["heap_total"] = heap_bytes(heap)
        if kind == "node":
            r["sent"], r["acked"] = sent["mem-" + key], commander.acked("mem-" + key)
        out[key] = r
        if r["trouble"]:
            say("%s: %s" % (key, "\n".join(r["trouble"][:10])))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=600, help="seconds of activity in the long run (600)")
    ap.add_argument("--heap", default=TARGET_HEAP, help="the deployed node's heap in the long run (136K)")
    ap.add_argument("--heap-py", default="256K", help="the node from source's heap in the long run (256K)")
    ap.add_argument("--bisect-seconds", type=float, default=8, help="each bisection run's length (8)")
    ap.add_argument("--skip", default="", help="steps to leave out: " + ",".join(STEPS))
    ap.add_argument("--note", default="", help="a sentence added under the target (e.g. why a period was short)")
    ap.add_argument("--from-json", metavar="FILE", help="only write the section again from a run's printed JSON")
    args = ap.parse_args()
    if args.from_json:
        res = json.loads(Path(args.from_json).read_text())
        write_section("node-memory", "The node's memory (MicroPython)", render(res, args), "bench/node_memory.py")
        return 0
    skip = {s for s in args.skip.split(",") if s}
    if skip - set(STEPS):
        ap.error("--skip takes " + ",".join(STEPS))
    for h in (args.heap, args.heap_py):
        try:
            runner.parse_heap(h)
        except ValueError as e:
            ap.error(str(e))
    deps.require_umqtt()
    res = {"outbox_size": outbox_size()}
    if "led" not in skip:
        say("LED task allocation")
        res["led"] = plain("led_alloc.py", 5)
    if "outbox" not in skip:
        say("outbox bytes per event")
        res["outbox"] = plain("outbox_bytes.py", 256)
    if "board" not in skip:
        board_dir = Path(tempfile.mkdtemp(prefix="node-memory-board-"))
        Board(board_dir).drive("GP2", 1)  # pins.in present, as once the host drives a button
        run = runner.start(PROGRAMS / "board_modules.py", board_dir=board_dir, _cleanup=[board_dir])
        run.wait(30)
        res["board"] = json.loads(run.expect(r"^board: ").string.split(": ", 1)[1])
    kind = "mosquitto" if shutil.which("mosquitto", path="/usr/sbin:/usr/bin:/usr/local/sbin") else "amqtt"
    with tempfile.TemporaryDirectory(prefix="node-memory-") as tmp:
        tmp = Path(tmp)
        mpy_main = compile_mpy(tmp / "deployed")
        if {"bisect", "long", "plain"} - skip:
            with BrokerProcess(kind, tmp) as broker:
                commander = Commander(broker.host, broker.port)
                try:
                    if "bisect" not in skip:
                        res["bisect"] = {"seconds": args.bisect_seconds,
                                         "py": smallest_heap(broker, commander, None, "py", args.bisect_seconds),
                                         "mpy": smallest_heap(broker, commander, mpy_main, "mpy",
                                                              args.bisect_seconds)}
                    if "plain" not in skip:
                        res["plain"] = plain_node(broker, commander, mpy_main, tmp, 8)
                    if "long" not in skip:
                        heap_mpy = args.heap
                        smallest = res.get("bisect", {}).get("mpy")
                        if smallest and smallest > heap_bytes(args.heap) // 1024:
                            # It cannot run there: measure it where it does run, with room to spare.
                            heap_mpy = "%dK" % ((smallest + 32 + 15) // 16 * 16)
                            say("the deployed node needs %dK: its long run is in %s" % (smallest, heap_mpy))
                        runs = long_run(broker, commander, mpy_main, tmp, heap_mpy, args.heap_py, args)
                        sent = runs["node-mpy"].get("sent", 0)
                        res["long"] = {"target_heap": args.heap, "seconds": args.duration, "broker": kind, "runs": runs,
                                       "activity": "%d commands and about %d presses each" % (sent, 2 * sent),
                                       "note": (" " + args.note) if args.note else ""}
                finally:
                    commander.close()
    print(json.dumps(res, indent=1))
    write_section("node-memory", "The node's memory (MicroPython)", render(res, args), "bench/node_memory.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
