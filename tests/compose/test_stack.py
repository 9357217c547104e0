"""The stack of docker-compose.yml, tested from its `tests` container: the node on the virtual board in
its own container, Mosquitto in another, the monitor recording in a third. Buttons are pressed and the
LED is read through the node's board directory (a shared volume), commands go through
`python -m monitor send`, and what the node published is read from the monitor's recording. Everything
speaks TLS to the broker's port and logs in as the tests' monitor user (the node as itself).

The node runs for the whole session, so each test starts from the state the previous one left and
reads its starting version from the node itself (a `get` command) rather than assuming one.
The last test checks the whole recording with `python -m monitor check`.
"""

import json
import os
import ssl
import subprocess
import sys
import threading
import time

import paho.mqtt.client as mqtt

from tests.helpers import wait_until

BUTTON_A = "GP14"
LED = "GP15"
SLOW_PERIOD_S = 1.0   # node/config.py SLOW_PERIOD_MS: an LED blinking in auto/slow changes within this


def send(stack, *args, timeout=5):
    """`python -m monitor send` to the node: (exit status, the ack as a dict, all output)."""
    env = dict(os.environ, PICO_MQTT_PASSWORD=stack.password(stack.user))
    out = subprocess.run([sys.executable, "-m", "monitor", "send", stack.device, "--broker", stack.broker,
                          "--user", stack.user, "--tls-ca", str(stack.tls_ca), "--timeout", str(timeout), *args],
                         capture_output=True, text=True, timeout=timeout + 20, env=env, stdin=subprocess.DEVNULL)
    text = out.stdout + out.stderr
    acks = [json.loads(line) for line in out.stdout.splitlines() if line.strip().startswith("{")]
    return out.returncode, (acks[0] if acks else None), text


def current_ver(stack):
    code, ack, out = send(stack, "--get")
    assert code == 0 and ack["ok"] is True, out
    return ack["ver"]


def retained(stack, topic, timeout=5):
    """The retained message the broker holds on `topic`, read by a fresh subscription (None: none)."""
    got = threading.Event()
    box = {}

    def on_connect(client, userdata, flags, reason, properties):
        client.subscribe(topic, qos=1)

    def on_message(client, userdata, msg):
        if msg.retain and "payload" not in box:
            box["payload"] = json.loads(msg.payload)
            got.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.username_pw_set(stack.user, stack.password(stack.user))
    client.tls_set_context(ssl.create_default_context(cafile=str(stack.tls_ca)))
    client.on_connect = on_connect
    client.on_message = on_message
    client.connect(stack.host, stack.port, keepalive=10)
    client.loop_start()
    try:
        got.wait(timeout)
    finally:
        client.disconnect()
        client.loop_stop()
    return box.get("payload")


def assert_steady(board, pin, level, seconds):
    """`pin` shows `level` and does not change for `seconds` (a window, polled, failing at the first
    change): how a forced LED is told from a blinking one."""
    board.wait_for(pin, level, timeout=3)
    seen = len(board.changes(pin))
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        changed = board.changes(pin)[seen:]
        assert not changed, "%s changed while it should have stayed %s: %s" % (pin, level, changed)
        time.sleep(0.02)


def test_the_node_is_online_and_the_recording_has_it_from_its_first_message(stack):
    status = retained(stack, "pico/%s/status" % stack.device)
    assert status is not None, "the broker holds no retained status for %s" % stack.device
    assert status["online"] is True and status["id"] == stack.device, status
    assert len(status["boot"]) == 8 and status["sess"] == 1
    # The monitor was subscribed before the node started (depends_on: service_healthy), so it saw the
    # node's very first message live.
    stack.recording.wait_for(stack.device, "status", lambda m: m["boot"] == status["boot"])
    first = stack.recording.messages(stack.device)[0]
    assert (first["_kind"], first["seq"], first["_retain"], first["online"]) == ("status", 1, False, True), first
    snap = stack.recording.wait_for(stack.device, "state", lambda m: m["boot"] == status["boot"])
    assert snap["seq"] > 1 and abs(snap["temp_c"] - 25.0) <= 0.2   # the virtual board's default temperature
    # The board directory is shared: the node's outputs can be seen from here.
    wait_until(lambda: stack.board.output(LED) is not None, 5, "the node to drive its LED (%s)" % LED)


def test_a_button_press_gives_events_and_a_snapshot_and_lights_the_led(stack):
    code, ack, out = send(stack, "--led", "auto", "--mode", "slow")
    assert code == 0 and ack["ok"] is True, out
    ver = current_ver(stack)
    before = stack.recording.wait_for(stack.device, "state", lambda m: m["ver"] == ver)
    presses = before["presses"]["a"]

    stack.board.press(BUTTON_A)
    try:
        pressed = stack.recording.wait_for(stack.device, "event",
                                           lambda m: m["kind"] == "button" and m["ver"] == ver + 1)
        assert (pressed["button"], pressed["pressed"], pressed["presses"]) == ("a", True, presses + 1), pressed
        assert_steady(stack.board, LED, 1, 1.5 * SLOW_PERIOD_S)   # lit while held, not blinking
    finally:
        stack.board.release(BUTTON_A)
    released = stack.recording.wait_for(stack.device, "event",
                                        lambda m: m["kind"] == "button" and m["ver"] == ver + 2)
    assert (released["button"], released["pressed"], released["presses"]) == ("a", False, presses + 1)
    snap = stack.recording.wait_for(stack.device, "state", lambda m: m["ver"] == ver + 2)
    assert snap["presses"]["a"] == presses + 1 and snap["buttons"]["a"] is False
    assert snap["seq"] > released["seq"]


def test_commands_are_acked_and_the_led_follows_them(stack):
    code, ack, out = send(stack, "--led", "auto", "--mode", "slow")
    assert code == 0, out
    ver = ack["ver"]

    code, ack, out = send(stack, "--led", "on")
    assert code == 0 and ack["ok"] is True and ack["ver"] == ver + 1, out
    event = stack.recording.wait_for(stack.device, "event", lambda m: m.get("cmd") == ack["id"])
    assert (event["kind"], event["led"], event["ver"], event["by"]) == ("led", "on", ver + 1, "cmd")
    assert_steady(stack.board, LED, 1, 1.5 * SLOW_PERIOD_S)

    code, ack, out = send(stack, "--led", "off")
    assert code == 0 and ack["ver"] == ver + 2, out
    assert_steady(stack.board, LED, 0, 1.5 * SLOW_PERIOD_S)

    code, ack, out = send(stack, "--led", "auto", "--mode", "fast")
    assert code == 0 and ack["ver"] == ver + 4, out
    kinds = [(e["kind"], e["ver"]) for e in stack.recording.messages(stack.device, "event")
             if e.get("cmd") == ack["id"]]
    assert kinds == [("led", ver + 3), ("mode", ver + 4)], kinds
    start = len(stack.board.changes(LED))
    wait_until(lambda: len(stack.board.changes(LED)) >= start + 6, 5, "the LED to blink fast again")
    snap = stack.recording.wait_for(stack.device, "state", lambda m: m["ver"] == ver + 4)
    assert (snap["led"], snap["mode"]) == ("auto", "fast")

    code, ack, out = send(stack, "--mode", "slow")
    assert code == 0 and ack["ver"] == ver + 5, out


def test_malformed_commands_are_rejected_and_change_nothing(stack):
    ver = current_ver(stack)

    code, ack, out = send(stack, "--raw", '{"id": "stack-bad-1", "led": "purple"}')
    assert code == 1, out
    assert (ack["id"], ack["ok"], ack["error"]) == ("stack-bad-1", False, "led must be one of: on, off, auto"), ack

    code, ack, out = send(stack, "--raw", "not json at all")
    assert code == 1, out
    assert (ack["id"], ack["ok"], ack["error"]) == (None, False, "not JSON"), ack

    assert current_ver(stack) == ver
    assert not [e for e in stack.recording.messages(stack.device, "event") if e.get("cmd") == "stack-bad-1"]
    code, ack, out = send(stack, "--get")
    assert code == 0 and ack["ok"] is True, "the node does not answer after the bad commands:\n" + out


def test_the_monitors_recording_checks_clean(stack):
    # Everything the tests above caused, up to the last ack, is in the recording by now.
    code, ack, out = send(stack, "--get")
    assert code == 0, out
    stack.recording.wait_for(stack.device, "ack", lambda m: m["id"] == ack["id"])
    check = subprocess.run([sys.executable, "-m", "monitor", "check", str(stack.recording.path), "--json"],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    report = json.loads(check.stdout)
    device = report["devices"][stack.device]
    assert device["ok"] and len(device["boots"]) == 1, device
    assert device["counts"]["event"]["live"] >= 7 and device["counts"]["ack"]["live"] >= 10, device["counts"]
