"""Real processes over real sockets (amqtt on loopback): the recorder killed with SIGKILL mid-stream,
the fleet simulator's injected faults found live and offline alike, and `watch` in a pseudo-terminal."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from monitor import findings as F
from monitor import recording
from monitor.checker import check
from monitor.fleet import Fleet
from monitor.fleet_publish import write
from monitor.recording import BadLine

from tests.helpers import wait_until

from .mon_helpers import PYTHON, monitor, on_screen, run_monitor, terminal


def announced(name: str, text: str) -> bool:
    return name == "err" and text.startswith("monitor: recording ")


def last_arrival(path) -> float:
    """When the newest line of the recording arrived (its `t`, the receiver's clock)."""
    last = path.read_bytes().rstrip(b"\n").rsplit(b"\n", 1)[-1]
    return json.loads(last)["t"]


def lines_in(path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def receiver_of(pid: int) -> int:
    """The pid of the receiver a `record` process started (its only child)."""
    children = wait_until(lambda: open(f"/proc/{pid}/task/{pid}/children").read().split(), 15, "the receiver")
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
def test_recorder_killed_with_sigkill_leaves_a_file_that_checks(broker, tmp_path, victim):
    """SIGKILL mid-stream, no chance to clean up. The monitor killed: its receiver sees its stdin end,
    writes out what waits and exits, so every line is whole. The receiver killed: what it had handed
    to the kernel stays, at worst the last line is torn, and the monitor says the receiver died."""
    out = tmp_path / "killed.jsonl"
    rec = monitor("record", "--broker", broker, "--out", str(out), "--quiet")
    fleet = None
    try:
        rec.wait_line(announced, 15)
        receiver = receiver_of(rec.pid)
        fleet = monitor("fleet", "7", "--broker", broker, "--messages", "100000", "--rate", "3000",
                        "--seed", "7", "--for", "60", "--prefix", "killed-")
        wait_until(lambda: lines_in(out) > 2000, 90, "2000 recorded lines")
        if victim == "monitor":
            rec.signal(signal.SIGKILL)
            rec.p.wait(timeout=10)
            wait_until(lambda: gone(receiver), 10, "the receiver to end with its monitor")
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
        wait_until(lambda: lines_in(out) >= 2500, 30, "the fleet's messages in the recording")
        # the live checker's clock (the receiver's word, every 0.1 s) past the reorder timeout (1 s)
        # after the last message, so that it has called every gap lost before it is stopped
        wait_until(lambda: time.time() - last_arrival(out) > 1.3, 10, "the reorder timeout after the last message")
        rec.signal(signal.SIGINT)
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


def test_watch_shows_every_device_live_in_a_terminal_and_stops_cleanly(broker, tmp_path):
    out = tmp_path / "watch.jsonl"
    term = terminal([PYTHON, "-m", "monitor", "watch", "--broker", broker, "--out", str(out), "--refresh", "0.2"])
    try:
        wait_until(lambda: "subscribed" in on_screen(term), 20, "watch to subscribe")
        done = run_monitor("fleet", "3", "--broker", broker, "--messages", "300", "--rate", "300", "--seed", "5",
                           "--fault", "duplicate=0.05", "--prefix", "watched-", timeout=60)
        assert done.returncode == 0, done.stderr
        screen = wait_until(lambda: (t := on_screen(term)) and all(f"watched-0000{i}" in t for i in range(3))
                          and "dup " in t and t, 20, "the devices and their duplicates on the screen")
        for heading in ("device", "online", "led", "mode", "buttons", "temp", "seen", "findings"):
            assert heading in screen
        assert "°C" in screen and "newest findings:" in screen
        term.signal(signal.SIGINT)
        assert term.finish(15) == 0
        final = on_screen(term)
        assert "monitor: checked live: " in final and f"to {out} (stopped)" in final
        assert "Traceback" not in final
    finally:
        term.kill()
    assert lines_in(out) >= 300
