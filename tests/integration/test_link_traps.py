"""umqtt.simple's traps, each fixed in the node's link and checked here against the real client:
the keepalive it sends, retained messages on topics it never subscribed to, and which messages are
retained at which QoS (umqtt.simple's publish takes retain BEFORE qos). The packet-id wrap has its own
file (test_packet_id_wrap.py)."""

import socket
import threading
import time

import paho.mqtt.client as mqtt
import pytest

from tests.helpers import PY, Child, wait_until
from tests.integration.test_node_end_to_end import BUTTON_A, ack_of, send, start_node
from tests.outage_harness import BrokerProcess

DEVICE = "it-node"


def _connect_packet(keepalive_setting, tmp_path):
    """Start the node against a bare TCP listener and return the first MQTT packet it sends."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(20)
    port = srv.getsockname()[1]
    board = tmp_path / "board"
    board.mkdir()
    node = Child([PY, "-m", "sim", "node", "--broker", "127.0.0.1:%d" % port, "--id", DEVICE,
                  "--board", str(board), "--set", "KEEPALIVE_S=%s" % keepalive_setting])
    try:
        conn, _ = srv.accept()
        conn.settimeout(10)
        data = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
            if len(data) >= 2 and len(data) >= 2 + data[1]:   # short CONNECT: one length byte
                break
        conn.close()
        return data, node
    finally:
        srv.close()
        node.stop()


def _keepalive_and_flags(packet):
    assert packet[0] == 0x10, packet              # CONNECT
    assert packet[2:8] == b"\x00\x04MQTT" and packet[8] == 4, packet   # MQTT 3.1.1
    flags = packet[9]
    return packet[10] << 8 | packet[11], flags


def test_connect_carries_the_configured_keepalive_and_a_retained_qos1_will(tmp_path):
    packet, _ = _connect_packet(7, tmp_path)
    keepalive, flags = _keepalive_and_flags(packet)
    assert keepalive == 7
    assert flags & 0x04, "no will"
    assert (flags >> 3) & 0x03 == 1, "will QoS is not 1"
    assert flags & 0x20, "will not retained"


def test_a_zero_keepalive_is_never_sent(tmp_path):
    packet, node = _connect_packet(0, tmp_path)
    keepalive, _ = _keepalive_and_flags(packet)
    assert keepalive == 30
    assert "KEEPALIVE_S=0 is not a keepalive" in node.output()


def test_retained_messages_on_topics_it_never_subscribed_to_are_ignored(tmp_path):
    # amqtt sends every new client the retained messages of every filter any client subscribed to.
    with BrokerProcess("amqtt", tmp_path) as broker:
        other = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        subscribed = threading.Event()
        other.on_subscribe = lambda *a: subscribed.set()
        other.connect(broker.host, broker.port, 30)
        other.loop_start()
        try:
            other.subscribe("elsewhere/#", 1)
            assert subscribed.wait(10)
            other.publish("elsewhere/x", b'{"id": "not-for-you", "led": "on"}', qos=1, retain=True).wait_for_publish(10)
            node = start_node(broker, tmp_path)
            try:
                wait_until(lambda: "ignored a message on b'elsewhere/x'" in node.child.output(), 10,
                           "the node to say it ignored the retained message")
                code, out = send(broker, "--get")
                assert code == 0 and ack_of(out)["ver"] == 0   # nothing was applied
                assert node.child.p.poll() is None
            finally:
                node.child.stop()
        finally:
            other.loop_stop()
            other.disconnect()


@pytest.mark.parametrize("kind", ["amqtt", "mosquitto"])
def test_status_and_state_are_retained_events_and_acks_are_not_and_all_are_qos1(kind, tmp_path):
    with BrokerProcess(kind, tmp_path) as broker:
        node = start_node(broker, tmp_path)
        try:
            live = _subscriber(broker)
            node.board.press(BUTTON_A)
            wait_until(lambda: any(t.endswith("/event") for t, _, _ in live.got), 10, "a live event")
            node.board.release(BUTTON_A)
            code, _ = send(broker, "--led", "on")
            assert code == 0
            wait_until(lambda: any(t.endswith("/ack") for t, _, _ in live.got), 10, "a live ack")
            late = _subscriber(broker)
            # Retained replays come right after the SUBACK, before anything published later: a marker
            # published now arrives after all of them.
            late.c.publish("pico/%s/marker" % DEVICE, b"m", qos=1)
            wait_until(lambda: any(t.endswith("/marker") for t, _, _ in late.got), 10, "the marker")
            before_marker = late.got[:[t for t, _, _ in late.got].index("pico/%s/marker" % DEVICE)]
            # (amqtt replays them twice: once after CONNACK, once after SUBACK.)
            assert {t.rsplit("/", 1)[1] for t, _, r in before_marker if r} == {"state", "status"}
            assert not [t for t, _, _ in before_marker if t.endswith(("/event", "/ack"))]
            assert {q for t, q, _ in live.got} == {1}
            assert not [t for t, _, r in live.got if r and t.endswith(("/event", "/ack"))]
            # A retained publish delivered live is not flagged retained (MQTT 3.1.1, 3.3.1.3).
            assert [r for t, _, r in live.got if t.endswith("/state")][-1] is False
            live.close()
            late.close()
        finally:
            node.child.stop()


class _subscriber:
    def __init__(self, broker):
        self.got = []
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        subscribed = threading.Event()
        self.c.on_subscribe = lambda *a: subscribed.set()
        self.c.on_message = lambda c, u, m: self.got.append((m.topic, m.qos, m.retain))
        self.c.connect(broker.host, broker.port, 30)
        self.c.loop_start()
        self.c.subscribe("pico/%s/#" % DEVICE, 1)
        assert subscribed.wait(10)

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()
