"""A paho client playing Home Assistant in the tests: subscribes, keeps every message it receives (with
its retain flag), waits for one with a deadline, publishes as Home Assistant does. Also starts the node
on the virtual board for tests/ha (as tests/integration/test_node_end_to_end.py does)."""

import json
import threading
import time

import paho.mqtt.client as mqtt

from sim.pins import Board
from tests.helpers import PY, Child, wait_until
from tests.outage_harness import NODE_HEAP


class Message:
    def __init__(self, topic, payload, retain, qos):
        self.topic, self.payload, self.retain, self.qos = topic, payload, retain, qos
        self.t = time.monotonic()

    def json(self):
        return json.loads(self.payload)

    def __repr__(self):
        return "Message(%r, %r, retain=%s)" % (self.topic, self.payload[:80], self.retain)


class HAClient:
    def __init__(self, addr, client_id="ha-test"):
        host, port = addr.rsplit(":", 1)
        self.messages = []
        self._lock = threading.Lock()
        self._subacks = set()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=mqtt.MQTTv311)
        self.c.on_message = self._on_message
        self.c.on_subscribe = lambda c, u, mid, rc, p: self._subacks.add(mid)
        self.c.connect(host, int(port), keepalive=30)
        self.c.loop_start()
        wait_until(self.c.is_connected, 10, "the Home Assistant client to connect to %s" % addr)

    def _on_message(self, client, userdata, msg):
        with self._lock:
            self.messages.append(Message(msg.topic, bytes(msg.payload), bool(msg.retain), msg.qos))

    def subscribe(self, topic, qos=1):
        _, mid = self.c.subscribe(topic, qos)
        wait_until(lambda: mid in self._subacks, 10, "SUBACK for %s" % topic)

    def publish(self, topic, payload, qos=0, retain=False):
        info = self.c.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(10)
        assert info.is_published(), "the broker did not take %s" % topic

    def seen(self, topic=None, match=None):
        with self._lock:
            msgs = list(self.messages)
        return [m for m in msgs if (topic is None or m.topic == topic) and (match is None or match(m))]

    def wait_for(self, topic, match=lambda m: True, timeout=10, what=None, after=0.0):
        """The first message on `topic` (received at or after monotonic time `after`) with match(m)."""
        def found():
            for m in self.seen(topic):
                if m.t >= after and match(m):
                    return m
            return None
        return wait_until(found, timeout, what or "a message on %s" % topic)

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def start_node(addr, board_dir, device, *extra):
    """The node on the virtual board (the real firmware in MicroPython), connected to `addr`."""
    board_dir.mkdir(exist_ok=True)
    child = Child([PY, "-m", "sim", "node", "--broker", addr, "--id", device, "--board", str(board_dir),
                   "--heap", NODE_HEAP, *extra])
    child.wait_line("connected to", 20)
    return child, Board(board_dir)
