"""umqtt.simple's traps, each fixed in the node's link and checked here against the real client:
the keepalive it sends, retained messages on topics it never subscribed to, a retained command (its
callback gets no retain flag), and which messages are retained at which QoS (umqtt.simple's publish
takes retain BEFORE qos). The packet-id wrap has its own file (test_packet_id_wrap.py)."""

import json
import socket
import threading
import time

import paho.mqtt.client as mqtt
import pytest

from tests.helpers import PY, Child, wait_until
from tests.integration.test_node_end_to_end import BUTTON_A, LED, ack_of, send, start_node
from tests.outage_harness import BrokerProcess, Gate, NodeProcess

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


def test_retained_messages_on_topics_it_never_subscribed_to_are_ignored_and_said_once(tmp_path):
    # amqtt sends every new client the retained messages of every filter any client subscribed to: after
    # a fleet simulation, hundreds. The node applies none of them and says so in one line with a count.
    strays = 300
    with BrokerProcess("amqtt", tmp_path) as broker:
        other = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        subscribed = threading.Event()
        other.on_subscribe = lambda *a: subscribed.set()
        other.connect(broker.host, broker.port, 30)
        other.loop_start()
        try:
            other.subscribe("elsewhere/#", 1)
            assert subscribed.wait(10)
            for i in range(strays):
                other.publish("elsewhere/%03d" % i, b'{"id": "not-for-you", "led": "on"}', qos=1,
                              retain=True).wait_for_publish(10)
            node = start_node(broker, tmp_path)
            try:
                counted = lambda: sum(int(line.split("ignored ", 1)[1].split(" ", 1)[0])
                                      for line in node.child.lines if "mqtt: ignored " in line)
                wait_until(lambda: counted() == strays, 10, "the node to count every stray message")
                said = [line for line in node.child.lines if "mqtt: ignored " in line]
                assert len(said) <= 2, said         # a line per burst, not per message
                assert "on topics not subscribed to" in said[0] and "the first on elsewhere/" in said[0], said
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


RETAINED_LINE = "ignored a retained command"


@pytest.mark.parametrize("kind", ["amqtt", "mosquitto"])
def test_a_retained_command_is_never_run_at_a_subscribe_and_live_ones_are(kind, tmp_path):
    # The broker replays a retained command at every subscribe; umqtt.simple's callback cannot tell it
    # from a live one. The node must ignore it: at the first connect and after a reconnect.
    cmd_topic = "pico/%s/cmd" % DEVICE
    with BrokerProcess(kind, tmp_path) as broker, Gate(broker.host, broker.port) as gate:
        watch = _subscriber(broker)
        watch.c.publish(cmd_topic, b'{"id": "old", "led": "on"}', qos=1, retain=True).wait_for_publish(10)
        node = NodeProcess(gate.addr, DEVICE, tmp_path / "board", ("RECONNECT_MIN_MS=200",))
        try:
            node.wait_connected(1)
            out = node.child
            wait_until(lambda: RETAINED_LINE in out.output(), 10, "the node to say it ignored the command")
            # Replays come right after the SUBACK, before anything published later: this ack proves the
            # node is past them.
            code, reply = send(broker, "--get")
            assert code == 0 and ack_of(reply)["ver"] == 0, reply     # nothing was applied
            # The watcher, subscribed before it was published, had "old" live: not flagged retained.
            assert watch.commands()[0] == (cmd_topic, False, "old"), watch.commands()
            assert watch.acks("old") == [] and watch.events("old") == []
            assert RETAINED_LINE + """ (a replay, not a live one): b'{"id": "old", "led": "on"}'""" in out.output()

            # A live command still works.
            code, reply = send(broker, "--led", "on")
            ack = ack_of(reply)
            assert code == 0 and ack["ok"] is True and ack["ver"] == 1, reply
            node.board.wait_for(LED, 1, timeout=2)
            assert [e["led"] for e in watch.events(ack["id"])] == ["on"]
            # Even one published retained: a broker clears the flag when it forwards a message to a
            # subscription that already exists (MQTT 3.1.1, 3.3.1.3); the node sees it as live.
            watch.c.publish(cmd_topic, b'{"id": "live-r", "mode": "fast"}', qos=1, retain=True).wait_for_publish(10)
            ack = wait_until(lambda: watch.acks("live-r"), 10, "the ack of a retained command published live")[0]
            assert ack["ok"] is True and ack["ver"] == 2
            assert (cmd_topic, False, "live-r") in watch.commands(), "%s forwarded it flagged retained" % kind
            code, reply = send(broker, "--mode", "slow")
            assert code == 0 and ack_of(reply)["ver"] == 3, reply

            # A reconnect: "live-r" is retained now, and replayed at the new subscribe.
            ignored = out.output().count(RETAINED_LINE)
            gate.reset()                    # the node's connection closes; it comes back through the gate
            node.wait_connected(2)
            wait_until(lambda: out.output().count(RETAINED_LINE) > ignored, 10,
                       "the node to ignore the retained command again after reconnecting")
            code, reply = send(broker, "--get")
            assert code == 0 and ack_of(reply)["ver"] == 3, reply     # "mode fast" was not run again
            assert len({a["seq"] for a in watch.acks("live-r")}) == 1
            assert len({e["seq"] for e in watch.events("live-r")}) == 1
            assert watch.acks("old") == [] and watch.events("old") == []
            assert node.alive()
        finally:
            node.stop()
            watch.close()


class _subscriber:
    def __init__(self, broker):
        self.got = []
        self.payloads = []      # (topic, retain, payload) of each message, as received
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        subscribed = threading.Event()
        self.c.on_subscribe = lambda *a: subscribed.set()
        self.c.on_message = self._on_message
        self.c.connect(broker.host, broker.port, 30)
        self.c.loop_start()
        self.c.subscribe("pico/%s/#" % DEVICE, 1)
        assert subscribed.wait(10)

    def _on_message(self, c, u, m):
        self.got.append((m.topic, m.qos, m.retain))
        self.payloads.append((m.topic, m.retain, m.payload))

    def _bodies(self, kind):
        return [(t, r, json.loads(p)) for t, r, p in list(self.payloads) if t.endswith("/" + kind)]

    def commands(self):
        """(topic, retain, id) of each command seen."""
        return [(t, r, b.get("id")) for t, r, b in self._bodies("cmd")]

    def acks(self, cmd_id):
        return [b for _, _, b in self._bodies("ack") if b.get("id") == cmd_id]

    def events(self, cmd_id):
        return [b for _, _, b in self._bodies("event") if b.get("cmd") == cmd_id]

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()
