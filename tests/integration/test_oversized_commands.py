"""A command larger than the node's free heap, live or retained, never takes the link down: the link reads
the fixed header of every incoming message itself and skips a payload larger than MAX_COMMAND_BYTES in
small reads. The node runs in a Pico-sized heap (tests/outage_harness.NODE_HEAP), so a payload read into
memory whole would raise MemoryError, as it did on a board.
"""

import re
import time
from contextlib import contextmanager

import paho.mqtt.client as mqtt

from tests.helpers import wait_until
from tests.integration.test_node_end_to_end import ack_of, send
from tests.outage_harness import FAST_LINK, BrokerProcess, Gate, NodeProcess, Recorder

DEVICE = "big-cmd-node"
CMD_TOPIC = "pico/%s/cmd" % DEVICE
SIZE = 200_000                      # more than the node's whole free heap


def publish(broker, payload, retain=False):
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.connect(broker.host, broker.port, 10)
    client.loop_start()
    try:
        client.publish(CMD_TOPIC, payload, qos=1, retain=retain).wait_for_publish(10)
    finally:
        client.loop_stop()
        client.disconnect()


def padded_command(cmd_id, size):
    """A command of exactly `size` bytes: an LED command with a padding key (which the node refuses)."""
    body = '{"id": "%s", "led": "on", "pad": "' % cmd_id
    return (body + "z" * (size - len(body) - 2) + '"}').encode()


def big_command():
    return padded_command("big", SIZE)


@contextmanager
def connected_node(tmp_path):
    """(broker, recorder, node): Mosquitto, the recorder and the node, connected; all stopped after."""
    with BrokerProcess("mosquitto", tmp_path) as broker:
        recorder = Recorder(broker.addr, tmp_path / "recording.jsonl")
        node = NodeProcess(broker.addr, DEVICE, tmp_path / "board", FAST_LINK)
        try:
            node.wait_connected(1)
            yield broker, recorder, node
        finally:
            node.stop()
            recorder.stop()


def test_a_live_command_larger_than_the_heap_is_answered_too_large_and_the_link_stays_up(tmp_path):
    with connected_node(tmp_path) as (broker, recorder, node):
        publish(broker, big_command())
        ack = recorder.rec.wait_for(DEVICE, "ack", lambda m: m["ok"] is False, 15)
        assert ack["error"] == "too large: %d bytes (at most 256)" % SIZE and ack["id"] is None, ack
        node.child.wait_line("a command of %d bytes was not read (at most 256)" % SIZE, 5)
        code, out = send(broker, "--led", "on", device=DEVICE)
        assert code == 0 and ack_of(out)["ok"] is True, out
        out = node.child.output()
        assert "link down" not in out and "MemoryError" not in out, out[-3000:]


def test_a_retained_command_of_any_size_is_ignored_at_every_subscribe(tmp_path):
    with BrokerProcess("mosquitto", tmp_path) as broker, Gate(broker.host, broker.port) as gate:
        publish(broker, big_command(), retain=True)
        recorder = Recorder(broker.addr, tmp_path / "recording.jsonl")
        node = NodeProcess(gate.addr, DEVICE, tmp_path / "board", FAST_LINK)
        try:
            ignored = "ignored a retained message of %d bytes on %s (not read)" % (SIZE, CMD_TOPIC)
            node.wait_connected(1)
            node.child.wait_line(ignored, 10)
            gate.reset()                        # a reconnect: the broker replays it at the new subscribe
            node.wait_connected(2, 10)
            node.child.wait_line(ignored, 10)
            code, out = send(broker, "--led", "on", device=DEVICE)
            assert code == 0 and ack_of(out)["ok"] is True, out
            time.sleep(2 * 2)   # the point, not a wait: two keepalives in which a reconnect storm would show
            connects = [x for x in node.child.lines if re.search(r"mqtt: connected to .* session \d+", x)]
            assert len(connects) == 2, connects
            assert not [m for m in recorder.rec.messages(DEVICE, "ack") if m["id"] in (None, "big")]
            assert "MemoryError" not in node.child.output()
        finally:
            node.stop()
            recorder.stop()
            publish(broker, b"", retain=True)   # clear it


def test_a_command_just_over_the_limit_is_too_large_and_one_at_it_is_read(tmp_path):
    # The boundary, where the link hands the packet to umqtt.simple or skips it: 256 bytes is a command,
    # 257 is too large, as the model says (monitor/model.py parse_command).
    with connected_node(tmp_path) as (broker, recorder, _):
        for size in (256, 257):
            publish(broker, padded_command("s%d" % size, size))
        wait_until(lambda: len(recorder.rec.messages(DEVICE, "ack")) >= 2, 10, "two acks")
        acks = recorder.rec.messages(DEVICE, "ack")
        assert [a.get("error") for a in acks] == ["unknown key: pad", "too large: 257 bytes (at most 256)"], acks
