"""More than 65,536 QoS 1 publishes on one connection through the node's own link and outbox, in the real
MicroPython interpreter, against Mosquitto (which drops a connection that uses packet id 0): the packet
id wraps from 65535 to 1 and everything goes through, acknowledged, on the first connection.

umqtt.simple never wraps its packet id: without the link's wrap the 65,536th publish goes out with id 0,
Mosquitto closes the connection, and the link has to reconnect (this test then sees session 2)."""

import json
import re
import subprocess
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from tests.helpers import PY, wait_until
from tests.outage_harness import ROOT, BrokerProcess

PROGRAM = Path(__file__).resolve().parent / "programs" / "wrap_flood.py"
DEVICE = "wrap-node"
COUNT = 70_000
TIME_LIMIT_S = 90


class Counter:
    def __init__(self, broker):
        self.seen = set()
        self.seqs = set()
        self.copies = 0
        self.subscribed = threading.Event()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="wrap-counter", protocol=mqtt.MQTTv311)
        c.on_connect = lambda c, u, f, rc, p: c.subscribe("pico/%s/event" % DEVICE, 1)
        c.on_subscribe = lambda *a: self.subscribed.set()
        c.on_message = self._message
        c.connect(broker.host, broker.port, 30)
        c.loop_start()
        self.client = c

    def _message(self, client, userdata, msg):
        body = json.loads(msg.payload)
        self.copies += 1
        self.seen.add(body["n"])
        self.seqs.add(body["seq"])

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def test_more_than_65536_qos1_publishes_on_one_connection(tmp_path):
    # No queue limit for the counting subscriber: Mosquitto would otherwise drop what it cannot keep up with.
    with BrokerProcess("mosquitto", tmp_path, extra_conf="max_queued_messages 0\n") as broker:
        counter = Counter(broker)
        try:
            assert counter.subscribed.wait(10)
            start = time.monotonic()
            out = subprocess.run([PY, "-m", "sim", "run", str(PROGRAM), str(ROOT / "node" / "lib"), broker.host,
                                  str(broker.port), str(COUNT), DEVICE, str(TIME_LIMIT_S)],
                                 capture_output=True, text=True, timeout=TIME_LIMIT_S + 30, cwd=ROOT)
            took = time.monotonic() - start
            found = re.search(r"flood: put (\d+) acked (\d+) connects (\d+) sess (\d+) wraps (\d+) max_pid (\d+) "
                              r"seq (\d+) dropped (\d+)", out.stdout)
            assert out.returncode == 0 and found, out.stdout[-3000:] + out.stderr[-3000:]
            put, acked, connects, sess, wraps, max_pid, seq, dropped = map(int, found.groups())
            assert (put, acked, dropped) == (COUNT, COUNT, 0), found.group(0)
            assert (connects, sess) == (1, 1), "not one connection: " + found.group(0)
            assert wraps == 1 and max_pid == 65535, found.group(0)
            assert seq == COUNT + 1      # the status online, then the flood
            wait_until(lambda: len(counter.seen) == COUNT, 20, "all %d messages at the subscriber" % COUNT)
            assert counter.seen == set(range(COUNT))
            assert counter.seqs == set(range(2, COUNT + 2)) and counter.copies == COUNT
            print("%d QoS 1 publishes on one connection in %.1f s (%.0f/s)" % (COUNT, took, COUNT / took))
        finally:
            counter.close()
