"""The node firmware in the real MicroPython interpreter on the virtual board, over real sockets, to a
real broker (amqtt and Mosquitto), with the real monitor recording, sending commands and checking.
"""

import json
import subprocess
import time

import pytest

from sim.pins import Board
from tests.helpers import PY, Child, Recording, wait_until
from tests.outage_harness import NODE_HEAP

DEVICE = "it-node"
BUTTON_A, BUTTON_B, LED = "GP14", "GP13", "GP15"


class Node:
    def __init__(self, child, board):
        self.child = child
        self.board = board


@pytest.fixture
def recording(broker, tmp_path):
    out = tmp_path / "recording.jsonl"
    child = Child([PY, "-m", "monitor", "record", "--broker", broker.addr, "--out", str(out)])
    child.wait_line("recording")
    rec = Recording(out)
    rec.child = child
    yield rec
    child.stop()


def start_node(broker, tmp_path, device=DEVICE, *extra):
    board_dir = tmp_path / ("board-" + device)
    board_dir.mkdir()
    child = Child([PY, "-m", "sim", "node", "--broker", broker.addr, "--id", device,
                   "--board", str(board_dir), "--heap", NODE_HEAP, *extra])
    child.wait_line("connected to", 20)
    return Node(child, Board(board_dir))


@pytest.fixture
def node(broker, recording, tmp_path):
    n = start_node(broker, tmp_path)
    yield n
    n.child.stop()


def send(broker, *args, device=DEVICE, timeout=5):
    out = subprocess.run([PY, "-m", "monitor", "send", device, "--broker", broker.addr,
                          "--timeout", str(timeout), *args], capture_output=True, text=True, timeout=timeout + 15)
    return out.returncode, out.stdout + out.stderr


def ack_of(output):
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise AssertionError("no ack printed:\n" + output)


def test_node_comes_online_with_status_and_first_snapshot(node, recording):
    status = recording.wait_for(DEVICE, "status", lambda m: m["online"] is True)
    assert status["_retain"] is False or status["seq"] == 1
    assert len(status["boot"]) == 8 and status["sess"] == 1 and status["seq"] == 1
    snap = recording.wait_for(DEVICE, "state", lambda m: m["boot"] == status["boot"])
    assert snap["ver"] == 0 and snap["led"] == "auto" and snap["mode"] == "slow"
    assert snap["buttons"] == {"a": False, "b": False} and snap["presses"] == {"a": 0, "b": 0}
    assert abs(snap["temp_c"] - 25.0) <= 0.2     # the virtual board's default temperature
    assert snap["seq"] > status["seq"]


def test_button_a_lights_the_led_while_held_and_reports_both_edges(node, recording):
    board = node.board
    board.press(BUTTON_A)
    pressed = recording.wait_for(DEVICE, "event", lambda m: m["kind"] == "button" and m["pressed"])
    assert (pressed["button"], pressed["presses"], pressed["ver"]) == ("a", 1, 1)
    board.wait_for(LED, 1, timeout=2)
    seen = len(board.changes(LED))
    time.sleep(0.8)   # the hold itself: longer than half the slow period, when a blinking LED goes dark
    assert board.changes(LED)[seen:] == [], "the LED changed while button A was held"
    board.release(BUTTON_A)
    released = recording.wait_for(DEVICE, "event", lambda m: m["kind"] == "button" and not m["pressed"])
    assert (released["presses"], released["ver"]) == (1, 2)
    board.wait_for(LED, 0, timeout=2)      # blinking again
    snap = recording.wait_for(DEVICE, "state", lambda m: m["ver"] == 2)
    assert snap["presses"]["a"] == 1 and snap["buttons"]["a"] is False


def tap(board, pin, recording, presses, button):
    board.press(pin)
    recording.wait_for(DEVICE, "event", lambda m: m["kind"] == "button" and m["button"] == button
                       and m["pressed"] and m["presses"] == presses)
    board.release(pin)
    recording.wait_for(DEVICE, "event", lambda m: m["kind"] == "button" and m["button"] == button
                       and not m["pressed"] and m["presses"] == presses)


def test_button_b_toggles_the_mode_and_the_blink_rate(node, recording):
    board = node.board
    tap(board, BUTTON_B, recording, 1, "b")
    events = recording.messages(DEVICE, "event")
    assert [(e["kind"], e["ver"]) for e in events] == [("button", 1), ("mode", 2), ("button", 3)]
    assert events[1]["mode"] == "fast" and events[1]["by"] == "button"
    # Fast mode: the LED changes every 100 ms (0.2 s period).
    start = len(board.changes(LED))
    wait_until(lambda: len(board.changes(LED)) >= start + 8, 5, "eight LED changes in fast mode")
    times = [t for t, _, _ in board.changes(LED)[start:]]
    gaps = [b - a for a, b in zip(times[1:], times[2:])]
    assert all(0.06 < g < 0.16 for g in gaps), gaps
    tap(board, BUTTON_B, recording, 2, "b")
    mode_events = [e for e in recording.messages(DEVICE, "event") if e["kind"] == "mode"]
    assert [e["mode"] for e in mode_events] == ["fast", "slow"]
    snap = recording.wait_for(DEVICE, "state", lambda m: m["ver"] == 6)
    assert snap["mode"] == "slow" and snap["presses"] == {"a": 0, "b": 2}


def test_commands_are_applied_acked_and_seen_in_the_state(broker, node, recording):
    board = node.board
    code, out = send(broker, "--led", "on")
    ack = ack_of(out)
    assert code == 0 and ack["ok"] is True and ack["ver"] == 1, out
    board.wait_for(LED, 1, timeout=2)
    seen = len(board.changes(LED))
    time.sleep(0.6)   # longer than half a slow period: a forced LED does not blink
    assert board.changes(LED)[seen:] == []
    code, out = send(broker, "--led", "off")
    assert code == 0 and ack_of(out)["ver"] == 2
    board.wait_for(LED, 0, timeout=2)
    code, out = send(broker, "--mode", "fast", "--led", "auto")
    ack = ack_of(out)
    assert code == 0 and ack["ver"] == 4
    events = [e for e in recording.messages(DEVICE, "event") if e.get("cmd") == ack["id"]]
    assert [(e["kind"], e["ver"]) for e in events] == [("led", 3), ("mode", 4)]
    code, out = send(broker, "--get")
    assert code == 0 and ack_of(out)["ver"] == 4
    snap = recording.wait_for(DEVICE, "state", lambda m: m["ver"] == 4)
    assert snap["led"] == "auto" and snap["mode"] == "fast"


BAD_COMMANDS = [
    ("garbage", "not JSON"),
    ("[1, 2]", "not a JSON object"),
    ('{"led": "on"}', "id must be a string of 1 to 64 characters"),
    ('{"id": "b1", "colour": "red"}', "unknown key: colour"),
    ('{"id": "b2", "led": "purple"}', "led must be one of: on, off, auto"),
    ('{"id": "b3", "mode": 2}', "mode must be one of: slow, fast"),
    ('{"id": "b4", "get": "yes"}', "get must be true"),
    ('{"id": "b5"}', "nothing to do: give led, mode or get"),
    ('{"id": "b6", "led": "on", "pad": "%s"}' % ("x" * 300), "too large: 336 bytes (at most 256)"),
]


def test_bad_commands_are_answered_change_nothing_and_the_node_keeps_running(broker, node, recording):
    code, out = send(broker, "--get")
    assert code == 0
    ver_before = ack_of(out)["ver"]
    for raw, reason in BAD_COMMANDS:
        code, out = send(broker, "--raw", raw)
        ack = ack_of(out)
        assert code == 1 and ack["ok"] is False and ack["error"] == reason, (raw, out)
    assert node.child.p.poll() is None, "the node stopped:\n" + node.child.output()
    code, out = send(broker, "--led", "on")
    assert code == 0 and ack_of(out)["ver"] == ver_before + 1
    assert not [e for e in recording.messages(DEVICE, "event") if e.get("cmd", "").startswith("b")]


def test_last_will_says_offline_when_the_node_dies(broker, recording, tmp_path):
    n = start_node(broker, tmp_path)
    status = recording.wait_for(DEVICE, "status", lambda m: m["online"] is True)
    n.child.kill()      # the runner and its interpreter: no goodbye at all
    will = recording.wait_for(DEVICE, "status", lambda m: m["online"] is False, timeout=15)
    assert will["boot"] == status["boot"] and will["sess"] == status["sess"] and "seq" not in will


def test_a_clean_stop_says_offline_and_the_recording_checks_clean(broker, recording, tmp_path):
    n = start_node(broker, tmp_path)
    tap(n.board, BUTTON_B, recording, 1, "b")
    code, out = send(broker, "--led", "on", "--mode", "slow")
    assert code == 0, out
    code, out = send(broker, "--raw", '{"id": "x", "led": 7}')
    assert code == 1
    assert n.child.stop() == 0
    bye = recording.wait_for(DEVICE, "status", lambda m: m["online"] is False)
    assert "seq" in bye
    said = n.child.output()     # what the README promises a person sees at Ctrl-C
    assert "app: stopping: going offline" in said and "mqtt: said offline and disconnected" in said, said[-800:]
    recording.child.stop()
    check = subprocess.run([PY, "-m", "monitor", "check", str(recording.path), "--json"],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
