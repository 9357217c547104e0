"""Every way a broker can fail ends in a retry, in words a person reads, never in a dead link: the node on
the virtual board, on both of its paths (the board's, joining the virtual access point with WIFI_SSID set,
and the bare one without Wi-Fi), against a real Mosquitto behind a front that fails as networks and
brokers do (tests/outage_harness.Gate's modes). Each test asserts the log line a person sees, that the node tries
again, and that once the broker answers again the node is online and answering commands within a bound.
The node's watchdog is armed throughout (8 s, as on the board): a broker that fails must never reset it.

A broker gone for minutes: tests/integration/test_long_outage.py.
"""

import re
import time

import pytest

from tests.helpers import wait_until
from tests.integration.test_node_end_to_end import ack_of, send
from tests.outage_harness import FAST_LINK, BrokerProcess, Gate, NodeProcess, free_port

DEVICE = "fault-node"
PATHS = {"wifi": ("WIFI_SSID='sim-ap'",), "bare": ("WIFI_SSID=None",)}
# FAST_LINK: SOCKET_TIMEOUT_S=2, RECONNECT_MAX_MS=1000. Back within a retry and a connect, with room.
BACK_WITHIN_S = 8

FAULTS = {
    "blackhole": r"failed: no answer to the TCP connect within 2 s; retrying in \d+ ms",
    "silent": r"failed: no CONNACK from the broker within 2 s; retrying in \d+ ms",
    "no_suback": r"failed: no SUBACK from the broker within 2 s; retrying in \d+ ms",
    "reset": r"failed: connection (reset|closed); retrying in \d+ ms",
}


def _start(broker_addr, path, tmp_path, extra=()):
    node = NodeProcess(broker_addr, DEVICE, tmp_path / "board", FAST_LINK + PATHS[path] + tuple(extra))
    if path == "wifi":
        node.child.wait_line("wifi: connected to sim-ap", 10)
    return node


def _failed_twice(node, pattern):
    """Two lines matching `pattern`: the failure said, and tried again."""
    regex = re.compile(pattern)
    wait_until(lambda: len([x for x in node.child.lines if regex.search(x)]) >= 2 or node._ended(), 20,
               "two lines matching %r; the node printed:\n%s" % (pattern, node.child.output()[-3000:]))


def _back_and_answering(node, broker, since):
    node.wait_line_after("mqtt: connected to", since, BACK_WITHIN_S)
    took = time.monotonic() - since
    code, out = send(broker, "--led", "on", device=DEVICE)
    assert code == 0 and ack_of(out)["ok"] is True, out
    assert node.alive()
    assert "Task exception" not in node.child.output() and "Traceback" not in node.child.output(), \
        node.child.output()[-3000:]
    return took


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("fault", FAULTS)
def test_a_failing_broker_is_retried_in_words_and_the_node_comes_back(fault, path, tmp_path):
    with BrokerProcess("mosquitto", tmp_path) as broker, Gate(broker.host, broker.port, fault) as front:
        node = _start(front.addr, path, tmp_path)
        try:
            _failed_twice(node, FAULTS[fault])
            assert front.met[fault] >= (0 if fault == "blackhole" else 2)
            front.set_mode("forward")
            _back_and_answering(node, broker, time.monotonic())
        finally:
            node.stop()


@pytest.mark.parametrize("path", PATHS)
def test_a_refused_connection_is_retried_and_the_broker_found_when_it_starts(path, tmp_path):
    port = free_port()
    node = _start("127.0.0.1:%d" % port, path, tmp_path)
    try:
        _failed_twice(node, r"connect to 127\.0\.0\.1:%d failed: connection refused; retrying in \d+ ms" % port)
        with BrokerProcess("mosquitto", tmp_path, port=port) as broker:
            _back_and_answering(node, broker, time.monotonic())
    finally:
        node.stop()


@pytest.mark.parametrize("path", PATHS)
def test_a_broker_name_that_does_not_resolve_is_said_so_and_retried(path, tmp_path):
    node = _start("no-such-broker.invalid:1883", path, tmp_path)
    try:
        _failed_twice(node, r"failed: broker name no-such-broker\.invalid not found \(.+\); retrying in \d+ ms")
        # Still a working node meanwhile: a press is an event in its state.
        node.tap("GP14")
        node.child.wait_line("presses=1/0", 5)
        assert node.alive()
    finally:
        node.stop()


def test_a_connection_that_fails_at_once_does_not_reset_the_backoff(tmp_path):
    # The broker accepts, the node connects, and the connection dies at once, again and again (as a
    # retained command too large to read once did): the waits must grow, not start again each time.
    with BrokerProcess("mosquitto", tmp_path) as broker, Gate(broker.host, broker.port) as front:
        node = _start(front.addr, "bare", tmp_path, ("RECONNECT_MIN_MS=100", "RECONNECT_MAX_MS=1600"))
        try:
            node.wait_connected(1, 10)
            for sess in range(2, 6):
                front.reset()
                node.wait_connected(sess, 10)
            waits = [int(m.group(1)) for m in (re.search(r"link down: .*reconnecting in (\d+) ms", x)
                                                for x in node.child.lines) if m]
            assert len(waits) >= 4
            # Equal jitter: the k-th wait is within [50 << k, 100 << k]; after a reset it would be at
            # most 100 ms again.
            assert waits[2] >= 200 and waits[3] >= 400, waits
        finally:
            node.stop()
