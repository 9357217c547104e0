# Heap bytes allocated per published snapshot, in the MicroPython interpreter, against a real broker:
# the node's path (node/lib: Shared builds the snapshot, the outbox queues it, the link stamps, encodes
# and publishes it, then takes its PUBACK) next to a bare umqtt.simple publish(topic, payload, True, 1)
# of the same payload. Counted with micropython.mem_total() (every byte the heap handed out), the waits
# for the broker's PUBACK left out of the node's figure (its asyncio poller waits there on the board).
# Usage: micropython heap_snapshot.py HOST PORT COUNT   (MICROPYPATH: node/lib, micropython-lib)
# Prints one line: "heap: {json}".
import asyncio
import gc
import json
import micropython
import select
import socket
import sys

from umqtt.simple import MQTTClient

from inbox import Inbox
from link import Link
from outbox import Outbox
from shared import Shared

HOST, PORT, COUNT = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
WARM = 20
mem = micropython.mem_total


class Cfg:
    TOPIC_PREFIX = "pico"
    BROKER_HOST = HOST
    BROKER_PORT = PORT
    BROKER_USER = None
    BROKER_PASSWORD = None
    KEEPALIVE_S = 30
    SOCKET_TIMEOUT_S = 5
    RECONNECT_MIN_MS = 200
    RECONNECT_MAX_MS = 1000
    MAX_IN_FLIGHT = 8
    FIRMWARE = "bench"


def node_setup():
    wake = asyncio.Event()
    outbox = Outbox(32, wake.set)
    inbox = Inbox(8)
    shared = Shared(outbox, inbox)
    shared.readings["temp_c"] = 24.3
    link = Link(Cfg, "heap-node", "0badc0de", outbox, inbox, wake)
    asyncio.run(link._connect())
    link.up = True
    poller = select.poll()
    poller.register(link.conn.sock, select.POLLIN)
    wait_readable(poller)
    link._take_packet()             # the PUBACK of the status online published by _connect
    return shared, outbox, link, poller


def wait_readable(poller):
    for _ in poller.ipoll(5000):
        return
    raise OSError("no PUBACK within 5 s")


def node_full(shared, outbox, link, poller, n):
    """Build the snapshot (as Shared.queue_snapshot does under its lock), queue it, publish it as the
    link's writer does, take its PUBACK as the link's reader does."""
    total = 0
    for _ in range(n):
        a = mem()
        outbox.put_snapshot(shared._snapshot_locked())
        entry = outbox.next_to_send()
        outbox.sent(entry, link._publish(entry[0], entry[1]))
        b = mem()
        wait_readable(poller)
        c = mem()
        link._take_packet()
        total += (b - a) + (mem() - c)
    assert len(outbox) == 0, "a PUBACK was not matched"
    return total


def node_publish(shared, outbox, link, poller, n):
    """The link alone: stamp, encode, publish one ready-made snapshot dict; take its PUBACK."""
    bodies = [shared._snapshot_locked() for _ in range(n)]     # made before counting
    total = 0
    for body in bodies:
        a = mem()
        link._publish("state", body)
        b = mem()
        wait_readable(poller)
        c = mem()
        link._take_packet()
        total += (b - a) + (mem() - c)
    return total


def bare(payload, n, encode):
    c = MQTTClient("heap-bare", HOST, PORT, keepalive=30)
    c.connect()
    c.sock.setsockopt(6, 1, 1)      # TCP_NODELAY (Linux numbers: the unix port lacks the names)
    topic = b"pico/heap-bare/state"
    body = json.loads(payload)
    total = 0
    for _ in range(n):
        a = mem()
        if encode:
            c.publish(topic, json.dumps(body), True, 1)
        else:
            c.publish(topic, payload, True, 1)
        total += mem() - a
    c.disconnect()
    return total


def main():
    shared, outbox, link, poller = node_setup()
    node_full(shared, outbox, link, poller, WARM)
    gc.collect()
    full = node_full(shared, outbox, link, poller, COUNT)
    gc.collect()
    node_publish(shared, outbox, link, poller, WARM)
    gc.collect()
    link_only = node_publish(shared, outbox, link, poller, COUNT)
    # The payload the node sent last, byte for byte, for the bare client.
    snap = shared._snapshot_locked()
    snap["seq"], snap["boot"], snap["sess"] = link.seq, link.boot, link.sess
    payload = json.dumps(snap).encode()
    link.stop()
    bare(payload, WARM, False)
    gc.collect()
    bare_bytes = bare(payload, COUNT, False)
    gc.collect()
    bare_encode = bare(payload, COUNT, True)
    print("heap: " + json.dumps({
        "count": COUNT, "payload_bytes": len(payload),
        "node_full": full / COUNT, "node_publish": link_only / COUNT,
        "bare_publish": bare_bytes / COUNT, "bare_dumps_publish": bare_encode / COUNT,
        "platform": sys.platform, "impl": "%s %s" % (sys.implementation.name, ".".join(str(v) for v in sys.implementation.version[:3])),
    }))


main()
