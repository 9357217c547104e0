"""`watch` on a pseudo-terminal against the real embedded broker (`python -m broker`) and a real virtual
node (`python -m sim node`, the firmware in MicroPython): through a broker outage (the broker killed, and
started again on the same port), and its keys commanding the node (the board's LED pin and the node's
snapshots say the commands took). And `record` across a broker restart. Plus the keys' pure parts."""

from __future__ import annotations

import os
import time

import pytest

from monitor import recording
from monitor.checker import check
from monitor.live import commands, keys
from monitor.live.view import Row, online_cell
from tests.helpers import Recording, wait_until
from tests.outage_harness import BrokerProcess, NodeProcess

from .mon_helpers import PYTHON, Client, monitor, on_screen, terminal

DEVICE = "watch-node"
LED = "GP15"
OLD_LIMIT_S = 10.0
"""How long `watch` and `record` used to wait for a lost broker before giving up (exit 1)."""
OTHER = "a-quiet"
"""A device that only has a retained snapshot (sorted before DEVICE): never commanded here."""
QUIET_SNAPSHOT = {"boot": "aaaaaaaa", "sess": 1, "seq": 2, "ts": 50, "ver": 0, "led": "auto", "lit": 0, "mode": "slow",
                  "buttons": {"a": False, "b": False}, "presses": {"a": 0, "b": 0}, "temp_c": None, "dropped": 0,
                  "cmd_dropped": 0}


@pytest.fixture
def broker(tmp_path):
    server = BrokerProcess("amqtt", tmp_path).start()
    yield server
    server.stop()


def start_node(broker, tmp_path):
    # A short reconnect backoff: the node is back soon after the broker (its default waits up to 10 s).
    node = NodeProcess(broker.addr, DEVICE, tmp_path / "board", settings=["RECONNECT_MAX_MS=800"])
    node.wait_connected(1, 30)
    return node


def start_watch(broker, out):
    return terminal([PYTHON, "-m", "monitor", "watch", "--broker", broker.addr, "--out", str(out),
                     "--refresh", "0.1"], columns=110, rows=30)


def frame(term):
    """The last screen `watch` drew in full (the one after it may still be being written)."""
    frames = on_screen(term).split("picostate watch:")
    return frames[-2] if len(frames) > 2 else ""


def row(screen, device=DEVICE):
    return next((line for line in screen.splitlines() if line.lstrip().startswith(device)), "")


def showing(term, *words, device=DEVICE, absent=()):
    """Until a full screen has every one of `words` (in the device's row when it starts with `row:`, else
    anywhere) and none of `absent`; that screen."""
    def test():
        screen = frame(term)
        for word in words:
            where = row(screen, device) if word.startswith("row:") else screen
            if word.removeprefix("row:") not in where:
                return None
        return None if any(word in screen for word in absent) else screen
    return test


def test_watch_through_a_broker_outage(broker, tmp_path):
    node = start_node(broker, tmp_path)
    out = tmp_path / "watch.jsonl"
    term = start_watch(broker, out)
    try:
        wait_until(showing(term, "subscribed", "row:online"), 20,
                   lambda: "the node online; screen:\n" + frame(term))
        broker.kill()
        lost = time.monotonic()
        screen = wait_until(showing(term, "broker gone", "reconnecting", "row:unknown", absent=("subscribed |",)),
                            10, lambda: "the outage shown; screen:\n" + frame(term))
        assert "online" not in row(screen)
        # Past the old limit: still running, still saying so, the count going up.
        wait_until(lambda: time.monotonic() - lost > OLD_LIMIT_S + 0.5 or not term.alive(), OLD_LIMIT_S + 2,
                   "the old limit to pass")
        assert term.alive(), on_screen(term)[-3000:]
        screen = wait_until(showing(term, "row:unknown"), 5, "a screen")
        gone_for = int(screen.split("broker gone ")[1].split(" s")[0])
        assert gone_for >= OLD_LIMIT_S
        broker.start()  # the same port
        wait_until(showing(term, "subscribed |", "row:online", absent=("broker gone",)), 20,
                   lambda: "the broker and the node back; screen:\n" + frame(term))
        assert term.stop() == 0
    finally:
        term.stop()
        node.stop()
    items = recording.read(out)
    marks = [m for m in items if isinstance(m, recording.Mark)]
    assert [m.event for m in marks] == ["disconnected", "reconnected"]
    assert marks[0].reason.endswith(" lost (the broker closed it or went away)"), marks[0].reason  # not paho's 128
    result = check(items)
    (dev,) = [d for d in result.devices if d.device == DEVICE]
    assert [f for f in dev.findings if f.error] == [], dev.findings


def test_watch_keys_command_the_selected_node(broker, tmp_path):
    out = tmp_path / "watch.jsonl"
    term = start_watch(broker, out)
    node = None
    try:
        wait_until(lambda: "subscribed" in frame(term), 20, lambda: "watch to subscribe:\n" + on_screen(term))
        term.write("l")  # no device yet: nothing is sent
        wait_until(lambda: "no device selected" in frame(term), 5, lambda: "the refusal:\n" + frame(term))
        other = Client(broker.addr, "other")  # a second device, first in the table: selected at first
        try:
            other.publish(f"pico/{OTHER}/state", QUIET_SNAPSHOT, retain=True)
        finally:
            other.close()
        wait_until(showing(term, f"> {OTHER}: no command yet"), 10, lambda: "the first selected:\n" + frame(term))
        node = start_node(broker, tmp_path)
        board, rec = node.board, Recording(out)
        wait_until(showing(term, "row:online"), 20, lambda: "the node online; screen:\n" + frame(term))
        term.write("j")
        wait_until(showing(term, f"> {DEVICE}: no command yet"), 5, lambda: "j to select it:\n" + frame(term))
        term.write("k")
        wait_until(showing(term, f"> {OTHER}: no command yet"), 5, lambda: "k to go back:\n" + frame(term))
        term.write("\x1b[B")  # the down arrow
        wait_until(showing(term, f"> {DEVICE}: no command yet"), 5, lambda: "down to select it:\n" + frame(term))
        term.write("l")  # auto -> on
        screen = wait_until(showing(term, f"> {DEVICE}: led on: ok"), 10, lambda: "the ack:\n" + frame(term))
        assert " ms" in screen.split(f"> {DEVICE}: led on: ok")[1].splitlines()[0]
        board.wait_for(LED, 1, timeout=3)
        rec.wait_for(DEVICE, "state", lambda m: m["led"] == "on", 5)
        wait_until(showing(term, "row:on ●"), 5, lambda: "the LED shown on:\n" + frame(term))
        term.write("l")  # on -> off
        wait_until(showing(term, f"> {DEVICE}: led off: ok"), 10, lambda: "the ack:\n" + frame(term))
        board.wait_for(LED, 0, timeout=3)
        wait_until(showing(term, "row:off"), 5, lambda: "the LED shown off:\n" + frame(term))
        term.write("m")  # slow -> fast
        wait_until(showing(term, f"> {DEVICE}: mode fast: ok", "row:fast"), 10, lambda: "the ack:\n" + frame(term))
        term.write("l")  # off -> auto: blinking, fast (a change every 0.1 s)
        wait_until(showing(term, f"> {DEVICE}: led auto: ok"), 10, lambda: "the ack:\n" + frame(term))
        start = len(board.changes(LED))
        wait_until(lambda: len(board.changes(LED)) >= start + 6, 3, "the LED blinking fast")
        times = [t for t, _, _ in board.changes(LED)[start + 1:]]
        gaps = sorted(b - a for a, b in zip(times, times[1:]))
        assert gaps[len(gaps) // 2] < 0.3, gaps  # fast: 0.1 s (slow would be 0.5 s); the median, a stall aside
        before = len(rec.messages(DEVICE, "state"))
        term.write("g")
        screen = wait_until(showing(term, f"> {DEVICE}: get: ok"), 10, lambda: "the ack:\n" + frame(term))
        assert "snapshot ver" in screen and " ms" in screen
        assert len(rec.messages(DEVICE, "state")) > before
        cmds = rec.messages(DEVICE, "cmd")
        assert [{k: v for k, v in c.items() if k in ("led", "mode", "get")} for c in cmds] == [
            {"led": "on"}, {"led": "off"}, {"mode": "fast"}, {"led": "auto"}, {"get": True}]
        assert rec.messages(OTHER, "cmd") == []
        term.write("q")
        assert term.finish(15) == 0
    finally:
        term.stop()
        if node is not None:
            node.stop()


def test_record_keeps_recording_across_a_broker_restart(broker, tmp_path):
    out = tmp_path / "rec.jsonl"
    rec = monitor("record", "--broker", broker.addr, "--out", str(out), "--quiet")
    try:
        rec.wait_line("monitor: recording", 15)
        broker.kill()
        rec.wait_line(lambda name, text: "reconnecting until it is back" in text, 10)
        broker.start()
        rec.wait_line(lambda name, text: "reconnected to" in text and "subscribed again" in text, 15)
        node = Client(broker.addr, "node")
        try:
            node.publish("pico/after/status", {"online": True})
        finally:
            node.close()
        wait_until(lambda: any(getattr(r, "topic", "") == "pico/after/status" for r in recording.read(out)), 10,
                   "the message after the return recorded")
        assert rec.alive()
        rec.stop()
        assert rec.p.returncode == 0, rec.err
    finally:
        rec.stop()
    marks = [(m.event, m.reason) for m in recording.read(out) if isinstance(m, recording.Mark)]
    assert [e for e, _ in marks] == ["disconnected", "reconnected"]
    assert rec.err[-1].startswith("monitor: recorded 1 message to ")


# ---- the pure parts -------------------------------------------------------------------------------------

def test_keys_parse_arrows_letters_and_skip_other_escapes():
    assert keys.parse(b"\x1b[A\x1b[Bjk") == ["up", "down", "j", "k"]
    assert keys.parse(b"\x1bOAl") == ["up", "l"]
    assert keys.parse(b"\x1b[15~m\x1b[1;5Cg") == ["m", "g"]   # F5 and Ctrl-right skipped whole
    assert keys.parse(b"\x00\x7f\xff q") == [" ", "q"]


def test_commands_cycle_from_what_the_device_said():
    assert [commands.next_led(x) for x in ("on", "off", "auto", None, "blue")] == ["off", "auto", "on", "on", "on"]
    assert [commands.next_mode(x) for x in ("slow", "fast", None)] == ["fast", "slow", "fast"]
    assert commands.fields_for("x", "on", "slow") is None
    assert commands.Result("led on", True, True, None, 8.25, 4).text() == "led on: ok (ver 4) in 8.2 ms"
    assert commands.Result("led x", True, False, "bad", 3.0).text() == "led x: rejected: bad in 3.0 ms"
    assert commands.Result("get", True, False, "no ack").text() == "get: failed: no ack"


def test_command_keys_without_a_device_send_nothing():
    sent = []
    cmds = commands.Commands("127.0.0.1:1", sender=lambda *a, **k: sent.append(a))
    assert cmds.key(None, "l") == "no device selected (up/down or j/k)"
    assert cmds.key("x", "z") is None
    cmds.wait(1)
    assert sent == [] and cmds.last == {}


def test_a_command_to_no_broker_says_why(tmp_path):
    cmds = commands.Commands("127.0.0.1:1", timeout=1)
    assert cmds.key("dev", "m", mode="fast") is None
    cmds.wait(10)
    result = cmds.last["dev"]
    assert result.done and not result.ok and result.command == "mode slow"
    assert "cannot reach the broker at 127.0.0.1:1" in result.text()



def test_online_is_unknown_while_the_broker_is_gone_and_until_heard_again():
    def r(online, seen):
        return Row("d", online, None, None, None, None, None, None, "", "", None, seen, 1, {}, 0)

    assert online_cell(r(True, 100.0)).plain == "online"
    assert online_cell(r(False, 100.0)).plain == "OFFLINE"
    assert online_cell(r(None, None)).plain == "?"
    assert online_cell(r(True, 100.0), gone=90.0).plain == "unknown"           # gone: nobody is known
    assert online_cell(r(True, 100.0), unknown_before=120.0).plain == "unknown"  # back, not heard since
    assert online_cell(r(True, 130.0), unknown_before=120.0).plain == "online"   # heard since the return


def test_no_keys_when_stdin_is_not_a_terminal():
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b"lmgq")
        with keys.Keys(read_end) as typed:
            assert not typed.active and typed.read() == []
        assert os.read(read_end, 10) == b"lmgq"  # left alone
    finally:
        os.close(read_end)
        os.close(write_end)
