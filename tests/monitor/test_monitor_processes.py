"""Real processes over real sockets (amqtt on loopback): the recorder killed with SIGKILL mid-stream,
the fleet simulator's injected faults found live and offline alike, and `watch` in a pseudo-terminal."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import signal
import struct
import termios
import threading
import time

import pytest

from monitor import findings as F
from monitor import recording
from monitor.checker import check
from monitor.fleet import Fleet
from monitor.fleet_publish import write
from monitor.recording import BadLine

from .mon_helpers import ENV, PYTHON, ROOT, AmqttBroker, monitor, run_monitor


def announced(name: str, text: str) -> bool:
    return name == "err" and text.startswith("monitor: recording ")


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)  # polling a file or a screen for a condition, bounded by the deadline


def lines_in(path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def receiver_of(pid: int) -> int:
    """The pid of the receiver a `record` process started (its only child)."""
    children = wait_for(lambda: open(f"/proc/{pid}/task/{pid}/children").read().split(), 15, "the receiver")
    assert len(children) == 1, children
    return int(children[0])


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat") as f:   # a zombie waiting for its parent counts as gone
        return f.read().rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.parametrize("victim", ["monitor", "receiver"])
def test_recorder_killed_with_sigkill_leaves_a_file_that_checks(tmp_path, victim):
    """SIGKILL mid-stream, no chance to clean up. The monitor killed: its receiver sees its stdin end,
    writes out what waits and exits, so every line is whole. The receiver killed: what it had handed
    to the kernel stays, at worst the last line is torn, and the monitor says the receiver died."""
    own = AmqttBroker()   # its own broker: nothing left over from other tests
    out = tmp_path / "killed.jsonl"
    rec = monitor("record", "--broker", own.address, "--out", str(out), "--quiet")
    fleet = None
    try:
        rec.wait_line(announced, 15)
        receiver = receiver_of(rec.popen.pid)
        fleet = monitor("fleet", "7", "--broker", own.address, "--messages", "100000", "--rate", "3000",
                        "--seed", "7", "--for", "60", "--prefix", "killed-")
        wait_for(lambda: lines_in(out) > 2000, 90, "2000 recorded lines")
        if victim == "monitor":
            rec.popen.send_signal(signal.SIGKILL)
            rec.popen.wait(timeout=10)
            wait_for(lambda: gone(receiver), 10, "the receiver to end with its monitor")
        else:
            os.kill(receiver, signal.SIGKILL)
            assert rec.finish(15) == 1
            assert any(line.startswith("monitor: the receiver stopped unexpectedly (exit status -9)")
                       for line in rec.err), rec.err
            assert rec.err[-1].startswith("monitor: recorded ") and rec.err[-1].endswith(str(out))
    finally:
        rec.kill()
        if fleet is not None:
            fleet.kill()
        own.stop()
    items = recording.read(out)
    bad = [i for i in items if isinstance(i, BadLine)]
    if victim == "monitor":
        assert bad == [] and out.read_bytes().endswith(b"\n")   # written out whole
    assert all(b.torn for b in bad) and len(bad) <= 1       # at most the last line, torn
    devices = {r.topic.split("/")[1] for r in items if not isinstance(r, BadLine) and r.topic.startswith("pico/killed-")}
    assert len(devices) == 7
    result = check(items)
    fleet_errors = [f for d in result.devices if d.device.startswith("killed-") for f in d.findings if f.error]
    assert fleet_errors == []                                # a prefix of a clean stream is clean
    done = run_monitor("check", str(out))
    assert "Traceback" not in done.stderr
    if bad:
        assert "the last line is torn" in done.stdout


FAULTS = {"lost": 0.01, "duplicate": 0.01, "reordered": 0.01, "reboot": 0.004, "reconnect": 0.004,
          "dropped_on_device": 0.01, "malformed": 0.005}


def tally(result: F.Result, prefix: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for dev in result.devices:
        if not dev.device.startswith(prefix):
            continue
        for kind, (n, _) in dev.tally.items():
            counts[kind] = counts.get(kind, 0) + n
    return counts


def test_fleet_faults_are_found_live_and_offline_alike(broker, tmp_path):
    out, manifest = tmp_path / "fleet.jsonl", tmp_path / "manifest.json"
    rec = monitor("record", "--broker", broker, "--out", str(out), "--quiet", "--reorder-timeout", "1")
    try:
        rec.wait_line(announced, 15)
        args = ["fleet", "4", "--broker", broker, "--messages", "2500", "--rate", "1000", "--seed", "3",
                "--manifest", str(manifest), "--prefix", "faulty-"]
        for kind, rate in FAULTS.items():
            args += ["--fault", f"{kind}={rate}"]
        done = run_monitor(*args, timeout=120)
        assert done.returncode == 0, done.stderr
        injected = json.loads(manifest.read_text())["injected"]
        last = injected and max(i["seq"] for i in injected if "seq" in i)
        assert last
        # every published message is recorded, and the reorder timeout has passed for the last gaps
        wait_for(lambda: lines_in(out) >= 2500, 30, "the fleet's messages in the recording")
        time.sleep(1.5)  # the live checker's reorder timeout (1 s) must pass before it is stopped
        rec.popen.send_signal(signal.SIGINT)
        assert rec.finish(15) == 0
    finally:
        rec.kill()
    want: dict[str, int] = {}
    for item in injected:
        want[item["kind"]] = want.get(item["kind"], 0) + 1
    offline = check(recording.read(out), reorder_timeout=1)
    got = tally(offline, "faulty-")
    lost_seqs = sum(f.count for d in offline.devices for f in d.findings if f.kind == F.LOST)
    assert lost_seqs == want.pop("lost", 0)
    got.pop(F.LOST, None)
    unacked = want.pop("unacked", 0)                 # lost acks: their commands still wait (10 s timeout)
    waiting = sum(d.commands.waiting for d in offline.devices)
    assert waiting >= unacked
    assert got == want
    # one core: what `record` counted live is what `check` finds in its file
    live = next(line for line in rec.err if line.startswith("monitor: checked live: "))
    for kind, n in offline.tally().items():
        assert f"{n} {kind}" in live, (live, offline.tally())


def test_fleet_offline_each_fault_alone_gives_exactly_its_findings(tmp_path):
    for kind in ("lost", "duplicate", "reordered", "reboot", "reconnect", "dropped_on_device", "inconsistent",
                 "unacked", "malformed"):
        fleet = Fleet(3, seed=11, faults={kind: 0.03})
        path = tmp_path / f"{kind}.jsonl"
        write(fleet, path, 1500, rate=50)               # 50 messages a second: 30 s of traffic
        result = check(recording.iter_items(path), command_timeout=2)
        want: dict[str, int] = {}
        for item in fleet.injected:
            want[item["kind"]] = want.get(item["kind"], 0) + 1
        got = tally(result, "fleet-")
        if kind == "lost":
            got[F.LOST] = sum(f.count for d in result.devices for f in d.findings if f.kind == F.LOST)
        if "unacked" in want:                           # the last commands may still be waiting at the end
            waiting = sum(d.commands.waiting for d in result.devices)
            assert want["unacked"] - waiting <= got.get("unacked", 0) <= want["unacked"]
            want.pop("unacked")
            got.pop("unacked", None)
        assert got == want, kind


ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


class Terminal:
    """A child process on a pseudo-terminal of a given size; everything it writes is collected."""

    def __init__(self, args: list[str], columns: int = 170, rows: int = 40) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = {**ENV, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(rows)}
        env.pop("NO_COLOR", None)
        import subprocess
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env,
                                     start_new_session=True)
        os.close(slave)
        self.master = master
        self.data = bytearray()
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                self.data += chunk

    def text(self) -> str:
        with self.lock:
            return ANSI.sub("", self.data.decode("utf-8", "replace"))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        os.close(self.master)


def test_watch_shows_every_device_live_in_a_terminal_and_stops_cleanly(broker, tmp_path):
    out = tmp_path / "watch.jsonl"
    term = Terminal([PYTHON, "-m", "monitor", "watch", "--broker", broker, "--out", str(out), "--refresh", "0.2"])
    try:
        wait_for(lambda: "subscribed" in term.text(), 20, "watch to subscribe")
        done = run_monitor("fleet", "3", "--broker", broker, "--messages", "300", "--rate", "300", "--seed", "5",
                           "--fault", "duplicate=0.05", "--prefix", "watched-", timeout=60)
        assert done.returncode == 0, done.stderr
        screen = wait_for(lambda: (t := term.text()) and all(f"watched-0000{i}" in t for i in range(3))
                          and "dup " in t and t, 20, "the devices and their duplicates on the screen")
        for heading in ("device", "online", "led", "mode", "buttons", "temp", "seen", "findings"):
            assert heading in screen
        assert "°C" in screen and "newest findings:" in screen
        term.proc.send_signal(signal.SIGINT)
        assert term.proc.wait(timeout=15) == 0
        final = term.text()
        assert "monitor: checked live: " in final and f"to {out} (stopped)" in final
        assert "Traceback" not in final
    finally:
        term.close()
    assert lines_in(out) >= 300
