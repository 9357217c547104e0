"""The node firmware with a user name, a password and TLS, against both secure brokers (amqtt with
`--users --tls`, Mosquitto with broker/mosquitto-secure.conf; tests/broker/secure.py sets them up with
the broker's own commands).

- The node and the monitor, on TLS with their passwords, pass the same end-to-end check as without.
- The node refuses a broker whose certificate is signed by another CA, or is for another host name,
  and says why; a refused login is said as such and retried only every REFUSED_RETRY_MS.
- A node logged in as A that claims B's device id gets none of B's commands, and nothing it publishes
  reaches B's topics.
"""

import json
import os
import re
import time
from pathlib import Path

import pytest

from tests.broker.secure import PASSWORDS, Client, broker, run_cli, setup  # noqa: F401  (fixtures)
from tests.helpers import PY, Child, Recording, wait_until
from tests.outage_harness import NodeProcess, monitor_check

ROOT = Path(__file__).resolve().parents[2]
BUTTON_A = "GP14"



def node(broker, setup, tmp_path, device="pico-a", user="pico-a", password=None, ca="certs/ca.pem",
         host="127.0.0.1", settings=()):
    password = PASSWORDS[user] if password is None else password
    return NodeProcess("%s:%d" % (host, broker.tls), device, tmp_path / ("board-" + device), settings=settings,
                       extra=["--user", user, "--ca", str(setup / ca)], env={"PICO_MQTT_PASSWORD": password})


def monitor(*args, timeout=20):
    return run_cli("monitor", *args, password=PASSWORDS["laptop"], timeout=timeout)


def test_node_and_monitor_on_tls_with_passwords_pass_the_end_to_end_check(broker, setup, tmp_path):
    out = tmp_path / "secure.jsonl"
    addr = "127.0.0.1:%d" % broker.tls
    login = ["--user", "laptop", "--tls-ca", str(setup / "certs/ca.pem")]
    recorder = Child([PY, "-m", "monitor", "record", "--broker", addr, "--out", str(out), "--quiet", *login],
                     cwd=ROOT, env={**os.environ, "PICO_MQTT_PASSWORD": PASSWORDS["laptop"]})
    n = node(broker, setup, tmp_path)
    try:
        recorder.wait_line("recording", 20)
        n.wait_connected()
        assert "(TLS)" in n.child.output()
        rec = Recording(out)
        rec.wait_for("pico-a", "state", lambda m: True, 15, "the first snapshot")
        n.tap(BUTTON_A)
        rec.wait_for("pico-a", "event", lambda m: m.get("button") == "a" and m.get("pressed") is False, 10,
                     "the release of button A")
        sent = monitor("send", "pico-a", "--led", "on", "--broker", addr, *login)
        assert sent.returncode == 0, sent.stdout + sent.stderr
        ack = json.loads(next(line for line in sent.stdout.splitlines() if line.startswith("{")))
        assert ack["ok"] is True
        rec.wait_for("pico-a", "state", lambda m: m.get("led") == "on", 10, "the LED on in a snapshot")
    finally:
        n.stop()
        recorder.stop()
    kinds, report = monitor_check(out, "pico-a")
    assert kinds == [], report
    device = report["devices"]["pico-a"]
    assert report["ok"] is True and device["snapshots"]["checked"] >= 3, device
    assert device["commands"]["acked_ok"] == 1 and device["counts"]["event"]["live"] >= 3, device


@pytest.mark.parametrize("case, ca, host, words", [
    ("another CA", "other/ca.pem", "127.0.0.1", "is not signed by the CA in"),
    ("another host name", "certs/ca.pem", "localhost", "is for another host name than localhost"),
])
def test_node_refuses_a_certificate_it_cannot_verify_and_says_why(broker, setup, tmp_path, case, ca, host, words):
    n = node(broker, setup, tmp_path, ca=ca, host=host)
    try:
        # (Under load, a first try may time out instead: the refusal is the line that says so.)
        _, line = n.wait_line_after(words, 0, 30)
        assert "retrying in 30000 ms" in line, line      # REFUSED_RETRY_MS: not hammered
        assert "mqtt: connected to" not in n.child.output()
    finally:
        n.stop()


def _failures(node):
    """The node's own times (s since it started) of each refused login it logged."""
    return [float(m.group(1)) for m in (re.match(r"\[\s*([\d.]+)\] mqtt: connect to .* failed: the broker refused", line)
                                        for line in node.child.lines) if m]


def test_a_refused_login_is_said_as_such_and_retried_slowly(broker, setup, tmp_path):
    n = node(broker, setup, tmp_path, password="not-the-password", settings=["REFUSED_RETRY_MS=1500",
                                                                              "RECONNECT_MIN_MS=50"])
    try:
        _, line = n.wait_line_after("the broker refused the connection", 0, 30)
        assert "(user pico-a)" in line, line
        assert re.search(r"(bad user name or password|not authorized)", line), line
        times = wait_until(lambda: _failures(n) if len(_failures(n)) >= 3 else None, 20, "three refusals")
        gaps = [b - a for a, b in zip(times, times[1:])]
        # With RECONNECT_MIN_MS 50, an unhurried retry would come within about 0.1 s.
        assert min(gaps) >= 1.4, gaps
    finally:
        n.stop()


def test_a_node_logged_in_as_a_cannot_act_as_b(broker, setup, tmp_path):
    """pico-a's password, pico-b's device id: amqtt refuses its subscription to pico/pico-b/cmd (the
    node says so and retries slowly); Mosquitto grants it but delivers none of B's commands, and drops
    what the node publishes on B's topics."""
    laptop = Client(broker.tls, "laptop", setup / "certs/ca.pem").connected()
    try:
        assert laptop.subscribe("pico/pico-b/#")
        n = node(broker, setup, tmp_path, device="pico-b", user="pico-a")
        try:
            if broker.kind == "amqtt":
                _, line = n.wait_line_after("refused the subscription to pico/pico-b/cmd", 0, 30)
                assert "retrying in 30000 ms" in line, line
            else:
                n.wait_connected()
                # Its status and first snapshot went out and were acknowledged (Mosquitto acknowledges
                # what its ACL drops): the logger says so.
                wait_until(lambda: any(re.search(r"mqtt=up sess=1 seq=([2-9]|\d\d+) outbox=0", line)
                                       for line in n.child.lines), 15, "the node's first messages acknowledged")
                laptop.publish("pico/pico-b/cmd", b'{"id": "neighbour-cmd-77", "led": "on"}')
                # Mosquitto writes a message to every subscriber as it handles it: once the laptop has
                # its copy, the node has had its own, if it was to get one; a logger line later it would
                # have said so.
                laptop.wait_for("pico/pico-b/cmd", b'{"id": "neighbour-cmd-77", "led": "on"}')
                n.wait_line_after("state:", time.monotonic(), 5)
                assert "neighbour-cmd-77" not in n.child.output()
                assert [m for m in laptop.got() if not m[0].endswith("/cmd")] == []
        finally:
            n.stop()
    finally:
        laptop.close()
