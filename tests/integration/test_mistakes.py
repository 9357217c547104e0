"""Teaching mode: each of the lesson's mistakes switched on in the real firmware on the virtual board
(`python -m sim node --mistake NAME`), against a real broker (amqtt), recorded by the monitor, and
what a learner is told about it: the finding `monitor check` reports, or the LED's stall
(`python -m sim stalls`). Each test drives a node with the mistake and a node without it side by side,
with the same presses, on one broker and one recording: the first is caught, the second checks clean.
"""

import json
import subprocess
import time

import pytest

from sim import stalls
from tests.helpers import PY, wait_until
from tests.outage_harness import ROOT, BrokerProcess, NodeProcess, Recorder, monitor_check

BUTTON_A, BUTTON_B = "GP14", "GP13"
HOLD_S = 0.1       # a tap: the edge of the press, then the release's 0.1 s later
FAILING = ("lost", "inconsistent", "malformed", "unacked", "duplicate", "dropped_on_device", "silent")


class Pair:
    """One broker, one recorder, and two nodes: `bad` with the mistake, `good` without."""

    def __init__(self, tmp_path, mistake, settings=()):
        self.broker = BrokerProcess("amqtt", tmp_path).start()
        self.path = tmp_path / "recording.jsonl"
        self.recorder = Recorder(self.broker.addr, self.path)
        self.rec = self.recorder.rec
        self.bad = NodeProcess(self.broker.addr, "mistake", tmp_path / "bad", settings,
                               extra=("--mistake", mistake))
        self.good = NodeProcess(self.broker.addr, "clean", tmp_path / "good", settings)
        self.nodes = (self.bad, self.good)
        for node in self.nodes:
            node.wait_connected()
            self.rec.wait_for(node.device, "state", lambda m: not m["_retain"], 10, "a first snapshot")
        assert any("mistake: %s is ON" % mistake in line for line in self.bad.child.lines), \
            self.bad.child.output()
        assert not any("mistake:" in line for line in self.good.child.lines)

    def both(self, action):
        for node in self.nodes:
            action(node)

    def events(self, node, **match):
        return [m for m in self.rec.messages(node.device, "event")
                if not m["_retain"] and all(m.get(k) == v for k, v in match.items())]

    def check(self):
        """Stop what still runs, then `monitor check --json`: {device: (failing kinds, findings)}."""
        for node in self.nodes:
            if node.alive():
                assert node.stop() == 0, node.child.output()[-3000:]
        self.recorder.stop()
        out = {}
        for node in self.nodes:
            kinds, report = monitor_check(self.path, node.device)
            dev = report["devices"].get(node.device, {})
            out[node.device] = ([k for k in kinds if k in FAILING], dev.get("findings", []), dev)
        return out

    def close(self):
        for node in self.nodes:
            node.stop()
        self.recorder.stop()
        self.broker.stop()


@pytest.fixture
def pair(tmp_path):
    made = []

    def make(mistake, settings=()):
        made.append(Pair(tmp_path, mistake, settings))
        return made[-1]

    yield make
    for p in made:
        p.close()


def inconsistent(findings):
    return [f for f in findings if f["kind"] == "inconsistent"]


def test_lost_update_two_presses_at_once_and_one_is_lost(pair):
    p = pair("lost-update")
    # A and B pressed together: both edges read the state inside the other's await.
    p.both(lambda n: (n.board.press(BUTTON_A), n.board.press(BUTTON_B)))
    for node in p.nodes:
        wait_until(lambda: p.events(node, kind="mode"), 10, "the mode event of B's press")
    p.both(lambda n: (n.board.release(BUTTON_A), n.board.release(BUTTON_B)))
    for node in p.nodes:   # (with the mistake, a release may find its button released already: no event)
        p.rec.wait_for(node.device, "state", lambda m: not m["_retain"] and m["ver"] >= 2
                       and m["buttons"] == {"a": False, "b": False}, 10, "a snapshot after both releases")
    bad_snap = p.rec.messages("mistake", "state")[-1]
    assert sum(bad_snap["presses"].values()) == 1, bad_snap      # two presses, one counted
    results = p.check()
    kinds, findings, _ = results["mistake"]
    assert "inconsistent" in kinds, findings
    # The witness: the second writer's event carries a `ver` the first already used.
    rising = [f for f in inconsistent(findings) if "versions only rise" in f["detail"]]
    assert rising and rising[0]["seen"]["ver"] <= rising[0]["expected"]["ver"] - 1, findings
    kinds, findings, dev = results["clean"]
    assert kinds == [] and dev["ok"], findings
    assert p.rec.messages("clean", "state")[-1]["presses"] == {"a": 1, "b": 1}


def test_live_snapshot_a_half_updated_snapshot(pair):
    p = pair("live-snapshot")
    # One tap of A, held 0.1 s: the release lands while the mistaken reader awaits its "fresh reading".
    p.both(lambda n: n.board.press(BUTTON_A))
    time.sleep(HOLD_S)      # the tap itself, not a wait for something to happen
    p.both(lambda n: n.board.release(BUTTON_A))
    for node in p.nodes:
        p.rec.wait_for(node.device, "state", lambda m: not m["_retain"] and m["ver"] == 2, 10,
                       "the snapshot of the release")
    results = p.check()
    kinds, findings, _ = results["mistake"]
    # The snapshot was finished after the release's event went out, so the checker meets it after ver 2.
    # Its witness: the snapshot says ver 1 (the press: A held) but shows A released (the buttons of ver 2).
    half = [f for f in inconsistent(findings) if "snapshot ver 1 is older than the changes already seen"
            in f["detail"]]
    assert half, findings
    assert half[0]["expected"]["ver"] == 2 and half[0]["seen"]["ver"] == 1, half[0]
    assert half[0]["seen"]["buttons"]["a"] is False and half[0]["seen"]["presses"]["a"] == 1, half[0]
    kinds, findings, dev = results["clean"]
    assert kinds == [] and dev["ok"], findings


def _stall(node, pin, every_ms, since):
    return stalls.measure(node.board.changes(), pin, every_ms, since)


def test_long_lock_stalls_the_led(pair):
    p = pair("long-lock")
    p.both(lambda n: n.board.press(BUTTON_B))       # fast mode: the LED changes every 100 ms
    time.sleep(HOLD_S)
    p.both(lambda n: n.board.release(BUTTON_B))
    for node in p.nodes:
        wait_until(lambda: p.events(node, kind="mode", mode="fast"), 10, "fast mode")
    since = max(n.board.now() for n in p.nodes) + 0.5     # (the mode's own change done)
    # The mistaken logger holds the lock 300 ms of every second; the LED waits for it at each change.
    wait_until(lambda: _stall(p.bad, "GP15", stalls.FAST_EVERY_MS, since).over_ms > 150, 10,
               "a stall of the LED beyond 150 ms")
    wait_until(lambda: _stall(p.good, "GP15", 0, since).changes >= 15, 10, "15 LED changes of the clean node")
    good = _stall(p.good, "GP15", stalls.FAST_EVERY_MS, since)
    bad = _stall(p.bad, "GP15", stalls.FAST_EVERY_MS, since)
    # Side by side on the same machine (so a loaded machine slows both): the mistake's stall stands out.
    assert good.over_ms < bad.over_ms - 100, "clean %d ms, mistaken %d ms" % (good.over_ms, bad.over_ms)
    # What the learner runs, on the board with the mistake: the LED stalls, the heartbeat LED (which
    # needs no lock) does not.
    out = subprocess.run([PY, "-m", "sim", "stalls", "--board", str(p.bad.board.dir), "--every", "100",
                          "--since", str(since)], capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    led, heartbeat = out.stdout.splitlines()
    assert led.startswith("GP15 (the LED):") and "a stall of" in led, out.stdout
    assert heartbeat.startswith("LED (the heartbeat LED):"), out.stdout
    assert _stall(p.bad, "LED", stalls.HEARTBEAT_EVERY_MS, since).over_ms < bad.over_ms - 100
    # The checker sees nothing wrong: every message is right, only late (a 300 ms hold is far within the
    # heartbeat's promise: no `silent` either).
    results = p.check()
    for device in ("mistake", "clean"):
        kinds, findings, dev = results[device]
        assert kinds == [] and dev["ok"], (device, findings)


def _send(p, node, *args):
    out = subprocess.run([PY, "-m", "monitor", "send", node.device, *args, "--broker", p.broker.addr],
                         capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr


def test_heavy_lock_stalls_everything_on_each_command(pair):
    p = pair("heavy-lock")
    for node in p.nodes:
        _send(p, node, "--mode", "fast")        # the LED changes every 100 ms from now on
    since = max(n.board.now() for n in p.nodes)
    for node in p.nodes:
        _send(p, node, "--get")                 # a command that changes nothing, saved all the same
    for node in p.nodes:
        wait_until(lambda: len([c for c in node.board.changes("GP15") if c[0] > since]) >= 10, 10,
                   "ten more LED changes")
    # The firmware's LED task needs no lock: its stall means that nothing ran at all.
    bad = _stall(p.bad, "GP15", stalls.FAST_EVERY_MS, since).over_ms
    assert bad > 250
    assert _stall(p.good, "GP15", stalls.FAST_EVERY_MS, since).over_ms < bad - 150   # side by side
    results = p.check()
    # The checker finds every message right; the acks' round trips show the wait.
    kinds, findings, dev = results["mistake"]
    assert kinds == [] and dev["ok"] and dev["commands"]["rtt_ms_max"] >= 400, (findings, dev["commands"])
    slow = dev["commands"]["rtt_ms_max"]
    kinds, findings, dev = results["clean"]
    assert kinds == [] and dev["ok"] and dev["commands"]["rtt_ms_max"] < slow - 200, (findings, dev["commands"])


# A heartbeat every second (so a silence of more than 3 s is `silent`); the watchdog bites after 7 s, so a
# 3.8 s hold (plus up to a second or two before the watchdog task feeds it again) stays within it; a keepalive
# long enough that neither the node nor the broker gives up on the connection during the hold (a new session
# would end the heartbeat's promise: a `reconnect`, not a silence).
BUSY = ("HEARTBEAT_S=1", "WDT_TIMEOUT_MS=7000", "KEEPALIVE_S=10")
BUSY_HOLD_S = 3.8


def test_busy_poll_stops_everything_the_checker_names_the_silence_and_the_watchdog_resets_the_board(pair):
    p = pair("busy-poll", BUSY)
    # Button A held for 3.8 s: the clean node lights its LED at once and blinks its heartbeat on;
    # the busy one does neither until the release, and publishes nothing.
    since = max(n.board.now() for n in p.nodes)
    p.both(lambda n: n.board.press(BUTTON_A))
    p.good.board.wait_for("GP15", 1, timeout=2)
    wait_until(lambda: p.good.board.now() > since + BUSY_HOLD_S and p.bad.board.now() > since + BUSY_HOLD_S,
               10, "the hold")
    lit_bad = [c for c in p.bad.board.changes("GP15") if c[0] > since and c[2] == 1]
    p.both(lambda n: n.board.release(BUTTON_A))
    for node in p.nodes:
        wait_until(lambda: p.events(node, kind="button", pressed=False), 10, "A's release")
    frozen = _stall(p.bad, "LED", stalls.HEARTBEAT_EVERY_MS, since).over_ms
    assert frozen > 2000
    assert _stall(p.good, "LED", stalls.HEARTBEAT_EVERY_MS, since).over_ms < frozen - 1500    # side by side
    assert not lit_bad, "the busy node's LED lit while A was held"
    release = p.events(p.bad, kind="button", pressed=False)[0]
    # Held past the watchdog's timeout: the board resets. (The virtual board ends the program with
    # SystemExit there, so the node's `finally` still says goodbye; a real board would leave its Last
    # Will. Either way the device is offline, and a node that said offline is not silent.)
    status = p.rec.messages("mistake", "status")[-1]
    assert status["online"] is True and status["hb"] == 1, status
    p.bad.board.press(BUTTON_A)
    wait_until(lambda: not p.bad.alive(), 20, "the watchdog to end the busy node")
    assert p.bad.child.p.returncode == 3
    assert any("watchdog would have reset the board" in line for line in p.bad.child.lines)
    p.rec.wait_for("mistake", "status", lambda m: m["online"] is False and m["boot"] == status["boot"], 10,
                   "the busy node offline")
    results = p.check()
    # What the checker says: the busy node fell silent during the first hold (its witness: the last message
    # before and the first after, at least the hold apart, more than the 3 s a heartbeat of 1 s allows),
    # and went offline at the end.
    kinds, findings, dev = results["mistake"]
    assert dev["online"] is False and set(kinds) == {"silent"}, json.dumps(dev)[-3000:]
    silent = [f for f in findings if f["kind"] == "silent"]
    assert len(silent) == 1, silent
    (f,) = silent
    assert f["info"]["late_s"] == 3 and f["info"]["ended"] and f["info"]["silent_s"] > BUSY_HOLD_S - 0.3, f
    before, after = f["messages"]
    assert after["seq"] <= release["seq"] and before["seq"] < after["seq"], (f, release)
    assert "a task that never awaits" in f["detail"], f
    kinds, findings, dev = results["clean"]
    assert kinds == [] and dev["ok"], findings


# --- the command line and the measurement, without a broker ---------------------------------------

def test_every_mistake_is_listed_and_marked_and_a_wrong_name_is_refused():
    from sim import mistakes

    out = subprocess.run([PY, "-m", "sim", "node", "--mistake", "list"], capture_output=True, text=True,
                         timeout=30, cwd=ROOT)
    assert out.returncode == 0 and [line.split()[0] for line in out.stdout.splitlines()] == list(mistakes.MISTAKES)
    for name in ("lost-update", "live-snapshot", "long-lock", "busy-poll"):
        assert name in mistakes.MISTAKES
    for name, (folder, _, _) in mistakes.MISTAKES.items():
        variants = sorted((mistakes.HERE / folder).glob("*.py"))
        assert variants, name
        assert any(v.read_text().startswith('"""MISTAKE %s:' % name) for v in variants), name
        for v in variants:
            assert (ROOT / "node" / "lib" / v.name).is_file(), "%s varies no firmware module" % v
    out = subprocess.run([PY, "-m", "sim", "node", "--mistake", "lost-updates"], capture_output=True,
                         text=True, timeout=30, cwd=ROOT)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith("sim: --mistake lost-updates: no such mistake; the mistakes are: lost-update, ")
    assert len(out.stderr.splitlines()) == 1


def test_stalls_measure_the_longest_gap_beyond_the_expected_one(tmp_path):
    changes = [(0.0, "GP15", 1), (0.5, "GP15", 0), (0.6, "LED", 1), (1.0, "GP15", 1), (1.8, "GP15", 0),
               (2.3, "GP15", 1)]
    s = stalls.measure(changes, "GP15", 500)
    assert (s.changes, round(s.longest_s, 3), s.at_s, round(s.over_ms)) == (5, 0.8, 1.0, 300) and s.stalled
    assert not stalls.measure(changes, "GP15", 500, since=1.9).stalled     # 1.8 to 2.3: on time
    assert stalls.measure(changes, "GP15", 500, since=1.5).stalled         # counts the gap from 1.0
    assert "1 change(s): nothing to measure" in stalls.report(changes)
    out = subprocess.run([PY, "-m", "sim", "stalls", "--board", str(tmp_path / "none")], capture_output=True,
                         text=True, timeout=30, cwd=ROOT)
    assert out.returncode == 2 and out.stderr.startswith("sim: no board ") and len(out.stderr.splitlines()) == 1
