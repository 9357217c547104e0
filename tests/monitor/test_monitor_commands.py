"""The small commands, against a real amqtt broker: `send --get` printing the snapshot that answered,
`fleet` clearing the retained messages it made, `devices` listing what the broker holds, and `forget`
clearing a device that ran on the virtual board and stopped. Errors are one `monitor: ...` line and their
exit status."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from monitor.checker import check
from monitor.forget import filters
from monitor.message_line import line
from monitor.mqtt import topic_matches
from monitor.record import Record
from monitor.send import answers
from tests.helpers import PY, Child, free_port, wait_until
from tests.outage_harness import NODE_HEAP

from .mon_helpers import ROOT, Client, monitor, run_monitor

sys.path.insert(0, str(ROOT / "node" / "lib"))
import discovery  # noqa: E402  (the firmware's own, pure: the topics a node publishes its discovery on)

sys.path.remove(str(ROOT / "node" / "lib"))


def start_node(broker: str, board: Path, device: str, *extra: str) -> Child:
    """The node firmware on the virtual board (the real MicroPython interpreter), connected to `broker`."""
    child = Child([PY, "-m", "sim", "node", "--broker", broker, "--id", device, "--board", str(board),
                   "--heap", NODE_HEAP, *extra])
    child.wait_line("connected to", 20)
    return child


def one_error(done, status: int, words: str) -> None:
    """The command ended with `status` and said why in exactly one `monitor: ...` line."""
    assert done.returncode == status, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("monitor: ") and words in lines[0], done.stderr


def retained_now(address: str, pattern: str = "pico/#") -> list[tuple[str, bytes]]:
    """The retained messages a fresh subscriber to `pattern` gets: all come right after the SUBACK, before
    a marker published after it comes back (so no sleep decides when they are all in)."""
    c = Client(address, "fresh")
    try:
        c.subscribe(pattern)
        c.subscribe("marker/#")
        c.publish("marker/done", b"x")
        c.wait_received(lambda got: any(m.topic == "marker/done" for m in got))
        with c.cond:
            return [(m.topic, bytes(m.payload)) for m in c.received if m.retain and m.topic != "marker/done"]
    finally:
        c.close()


# --- send --get ----------------------------------------------------------------------------------

def test_send_get_prints_the_snapshot_that_answered_from_a_real_node(broker, tmp_path):
    node = start_node(broker, tmp_path / "board", "cmd-node")
    try:
        done = run_monitor("send", "cmd-node", "--get", "--broker", broker)
        assert done.returncode == 0, done.stderr
        ack_line, *fields = done.stdout.splitlines()
        ack = json.loads(ack_line)
        assert ack["ok"] is True
        shown = dict(line.split(None, 1) for line in fields)
        assert shown["led"] == "auto (lit)" or shown["led"] == "auto (dark)"
        assert shown["boot"] == ack["boot"] and int(shown["seq"]) > ack["seq"] and int(shown["ver"]) == ack["ver"]
        assert shown["buttons"] == "a up, b up" and shown["mode"] == "slow"
        assert done.stderr.startswith("monitor: ack from cmd-node in ")

        done = run_monitor("send", "cmd-node", "--led", "on", "--get", "--json", "--broker", broker)
        assert done.returncode == 0, done.stderr
        assert len(done.stdout.splitlines()) == 1     # the snapshot alone, as received
        snap = json.loads(done.stdout)
        assert snap["led"] == "on" and snap["ver"] == ack["ver"] + 1 and snap["boot"] == ack["boot"]
    finally:
        node.stop()


def fake_node(address: str, device: str, after_ack: list[tuple[dict, bool]]) -> Client:
    """A paho client answering each command on pico/DEVICE/cmd with an ok ack (boot b1, seq 10), then
    publishing `after_ack`: (state body, retained) pairs."""
    c = Client(address, "fake-" + device)

    def answer(client: Client, message) -> None:
        if message.topic != f"pico/{device}/cmd":
            return
        cmd = json.loads(message.payload)
        ack = {"boot": "b1", "sess": 1, "seq": 10, "ts": 5, "id": cmd["id"], "ok": True, "ver": 3}
        client.client.publish(f"pico/{device}/ack", json.dumps(ack), qos=1)
        for body, retain in after_ack:
            client.client.publish(f"pico/{device}/state", json.dumps(body), qos=1, retain=retain)

    c.on_message = answer
    c.subscribe(f"pico/{device}/cmd")
    return c


def test_send_get_takes_the_snapshot_after_the_ack_not_an_older_one(broker):
    older = {"boot": "b1", "sess": 1, "seq": 9, "ver": 3, "led": "off"}       # made before the ack
    other_boot = {"boot": "b0", "sess": 1, "seq": 11, "ver": 3, "led": "off"}
    answer = {"boot": "b1", "sess": 1, "seq": 11, "ver": 3, "led": "on", "mode": "fast"}
    node = fake_node(broker, "fake1", [(older, False), (other_boot, False), (answer, False)])
    try:
        done = run_monitor("send", "fake1", "--get", "--json", "--broker", broker)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == answer
    finally:
        node.close()


def test_send_get_shows_what_a_hostile_node_says_without_obeying_it(broker):
    answer = {"boot": "b1", "sess": 1, "seq": 11, "ver": 3, "led": "\x1b[2J", "\x07bell": "\x9b31m"}
    node = fake_node(broker, "fake3", [(answer, False)])
    try:
        done = run_monitor("send", "fake3", "--get", "--broker", broker)
        assert done.returncode == 0, done.stderr
        shown = done.stdout.splitlines()[1:]
        assert shown[0].split() == ["led", "\\x1b[2J"] and shown[-1].split() == ["\\x07bell", "\\x9b31m"]
        assert not any(c in done.stdout for c in "\x1b\x07\x9b")
        done = run_monitor("send", "fake3", "--get", "--json", "--broker", broker)
        assert json.loads(done.stdout) == answer and "\x1b" not in done.stdout
    finally:
        node.close()


def test_send_get_without_a_snapshot_is_one_line_and_status_2(broker):
    stale = {"boot": "b1", "sess": 1, "seq": 9, "ver": 3, "led": "off"}
    node = fake_node(broker, "fake2", [(stale, False)])
    try:
        done = run_monitor("send", "fake2", "--get", "--json", "--timeout", "0.5", "--broker", broker)
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.splitlines()[-1] == "monitor: no snapshot from fake2 within 0.5 s (its ack came)"
    finally:
        node.close()


def test_answers_matches_by_boot_seq_and_ver():
    ack = {"boot": "b1", "seq": 10, "ver": 3, "ok": True}
    assert answers(ack, {"boot": "b1", "seq": 11, "ver": 3})
    assert answers(ack, {"boot": "b1", "seq": 12, "ver": 4})      # a newer snapshot took its slot
    assert not answers(ack, {"boot": "b1", "seq": 10, "ver": 3})
    assert not answers(ack, {"boot": "b2", "seq": 11, "ver": 3})
    assert not answers(ack, {"boot": "b1", "seq": 11, "ver": 2})
    assert answers({"ok": True, "id": "x"}, {"anything": 1})        # no boot/seq: the first after the ack


# --- fleet ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("until", [["--messages", "300"], ["--messages", "1000000", "--rate", "300", "--for", "0.5"]])
def test_fleet_clears_the_retained_messages_it_made(broker, until):
    done = run_monitor("fleet", "5", *until, "--broker", broker)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-1].endswith("; cleared the 10 retained message(s) it left"), done.stderr
    assert [t for t, _ in retained_now(broker) if t.startswith("pico/fleet-")] == []


def test_fleet_stopped_with_ctrl_c_clears_them_too(broker):
    fleet = monitor("fleet", "3", "--messages", "1000000", "--rate", "200", "--broker", broker)
    try:
        # While it runs, a newcomer is handed its retained status and state (what it would leave behind).
        # (topics, not messages: amqtt flags a live forward retained too, so one topic can come twice)
        wait_until(lambda: len({t for t, _ in retained_now(broker) if t.startswith("pico/fleet-")}) == 6, 10,
                   "the fleet's 6 retained messages")
        fleet.signal(signal.SIGINT)
        assert fleet.finish(15) == 0, fleet.output()
    finally:
        fleet.stop()
    assert fleet.err[-1].endswith("; stopped, and cleared the 6 retained message(s) it left"), fleet.err
    assert [t for t, _ in retained_now(broker) if t.startswith("pico/fleet-")] == []


# --- devices -------------------------------------------------------------------------------------

def test_devices_with_none_says_so_in_one_line(broker):
    done = run_monitor("devices", "--broker", broker)
    assert done.returncode == 0 and done.stdout == ""
    assert done.stderr == f"monitor: no devices: the broker at {broker} holds no retained status or state under pico/\n"
    done = run_monitor("devices", "--broker", broker, "--json")
    assert done.returncode == 0 and json.loads(done.stdout) == {"devices": []}


def test_devices_lists_what_the_broker_retains(broker):
    c = Client(broker, "node-like")
    try:
        c.publish("pico/desk/status", {"online": True, "boot": "9f1c2a7b", "sess": 2, "seq": 1, "ts": 10}, retain=True)
        c.publish("pico/desk/state", {"boot": "9f1c2a7b", "sess": 2, "seq": 17, "ts": 125_000, "ver": 6,
                                      "led": "on", "lit": 1, "mode": "fast"}, retain=True)
        c.publish("pico/gone/status", {"online": False, "boot": "00000001", "sess": 1}, retain=True)
        c.publish("pico/odd/state", b"not json", retain=True)
        c.publish("pico/live/event", {"seq": 3}, retain=False)          # not retained: not a device here
    finally:
        c.close()
    done = run_monitor("devices", "--broker", broker)
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()]
    assert rows[0] == ["device", "status", "boot", "sess", "led", "mode", "ver", "seq", "up"]
    assert rows[1] == ["desk", "online", "9f1c2a7b", "2", "on", "●", "fast", "6", "17", "2m05s"]
    assert rows[2] == ["gone", "offline", "00000001", "1"]
    assert rows[3] == ["odd", "?", "malformed"]
    assert len(rows) == 4
    done = run_monitor("devices", "--broker", broker, "--json")
    got = {d["device"]: d for d in json.loads(done.stdout)["devices"]}
    assert sorted(got) == ["desk", "gone", "odd"]
    assert (got["desk"]["online"], got["desk"]["ver"], got["desk"]["seq"], got["desk"]["uptime_ms"]) == (True, 6, 17,
                                                                                                         125_000)
    assert got["gone"]["online"] is False and got["gone"]["state"] is None and got["odd"]["online"] is None


# --- forget --------------------------------------------------------------------------------------

def test_forget_a_node_that_ran_and_stopped(broker, tmp_path):
    node = start_node(broker, tmp_path / "board", "old-desk")
    try:
        wait_until(lambda: {"pico/old-desk/status", "pico/old-desk/state"} <= {t for t, _ in retained_now(broker)},
                   10, "the node's retained status and state")
        done = run_monitor("forget", "old-desk", "--broker", broker)   # still running: refused, nothing changed
        one_error(done, 2, "old-desk is online (its retained status says so): stop it first, or give --force")
        assert done.stdout == ""
    finally:
        assert node.stop() == 0
    c = Client(broker, "laptop")
    c.publish("pico/old-desk/cmd", {"id": "left", "led": "on"}, retain=True)   # a command someone left retained
    c.close()
    before = {t for t, _ in retained_now(broker, "#")}
    mine = {"pico/old-desk/status", "pico/old-desk/state", "pico/old-desk/cmd", "homeassistant/device/old-desk/config"}
    assert mine <= before, before

    done = run_monitor("forget", "old-desk", "--broker", broker)
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.splitlines()) == sorted("cleared " + t for t in mine)
    assert done.stderr == "monitor: forgot old-desk: 4 retained messages cleared\n"
    assert not [t for t, _ in retained_now(broker, "#") if "old-desk" in t]

    done = run_monitor("forget", "old-desk", "--broker", broker)    # again: nothing left to clear
    assert done.returncode == 0 and done.stdout == ""
    assert done.stderr == "monitor: the broker holds nothing retained for old-desk\n"


def test_forget_clears_the_per_component_discovery_and_force_an_online_one(broker):
    cfg = SimpleNamespace(FIRMWARE="0.1.0", TOPIC_PREFIX="pico", HA_DISCOVERY="component", HA_PREFIX="ha")
    components = discovery.messages(cfg, "desk.2")
    c = Client(broker, "node-like")
    try:
        for topic, payload in components:
            c.publish(topic.decode(), payload, retain=True)
        c.publish("pico/desk.2/status", {"online": True, "boot": "1", "sess": 1, "seq": 1}, retain=True)
        c.publish("ha/sensor/other/temp/config", b"{}", retain=True)    # another device's: kept
    finally:
        c.close()
    done = run_monitor("forget", "desk.2", "--broker", broker, "--ha-prefix", "ha")
    one_error(done, 2, "desk.2 is online")
    done = run_monitor("forget", "desk.2", "--broker", broker, "--ha-prefix", "ha", "--force")
    assert done.returncode == 0, done.stderr
    cleared = {line.split(" ", 1)[1] for line in done.stdout.splitlines()}
    assert cleared == {t.decode() for t, _ in components} | {"pico/desk.2/status"}
    assert len(components) == 9
    assert [t for t, _ in retained_now(broker, "#")] == ["ha/sensor/other/temp/config"]


def test_forget_looks_where_the_firmware_publishes_discovery():
    for device in ("desk", "pico-e6614103e7", "desk.1 é"):
        cfg = SimpleNamespace(FIRMWARE="0.1.0", TOPIC_PREFIX="pico", HA_DISCOVERY="component", HA_PREFIX="p")
        topics = [t.decode() for t, _ in discovery.messages(cfg, device)]
        cfg.HA_DISCOVERY = True
        topics += [t.decode() for t, _ in discovery.messages(cfg, device)]
        for topic in topics:
            assert any(topic_matches(f, topic) for f in filters(device, "p")), topic


# --- errors --------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [["devices"], ["forget", "desk"]])
def test_no_broker_is_one_line_and_status_2(args):
    done = run_monitor(*args, "--broker", f"127.0.0.1:{free_port()}")
    one_error(done, 2, "cannot reach the broker at 127.0.0.1:")
    assert done.stdout == ""


@pytest.mark.parametrize(("args", "words"), [
    (["forget", "a/b"], "not a device id"),
    (["forget"], "the following arguments are required: ID"),
    (["send", "desk", "--led", "on", "--json"], "--json goes with --get"),
    (["devices", "--broker", "host:99999"], "port must be a number"),
])
def test_usage_errors_are_one_line_and_status_2(args, words):
    done = run_monitor(*args)
    one_error(done, 2, words)


def test_a_cleared_status_or_state_is_no_malformed_message():
    """What `forget` and a fleet ending send reaches a recorder as an empty payload: the broker clearing a
    retained message, which no node sent. An empty event is still malformed."""
    records = [Record(1000.0, "pico/d/status", 1, False, b""), Record(1000.1, "pico/d/state", 1, False, b""),
               Record(1000.2, "pico/d/event", 1, False, b"")]
    result = check(records)
    assert [(f.kind, f.device) for f in result.all_findings()] == [("malformed", "d")]
    assert line(records[0]).endswith(" d status cleared (empty retained)")
    assert "MALFORMED" in line(records[2])
