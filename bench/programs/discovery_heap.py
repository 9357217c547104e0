# The Home Assistant discovery config in the MicroPython interpreter: its size, the heap the node keeps
# for it (built once at start-up by node/lib/discovery.py, as the link does), and what publishing the
# kept bytes costs, against baselines measured in the same run. Publishes go through umqtt.simple's
# publish(topic, payload, True, 1), as the link calls it, to a fake socket that only counts bytes, its
# PUBACK canned as the link's transport cans it; the heap is read with gc.mem_alloc() after gc.collect()
# (what stays) and micropython.mem_total() (every byte handed out).
# Usage: micropython discovery_heap.py COUNT   (MICROPYPATH: node/lib, micropython-lib)
# Prints one line: "discovery: {json}".
import gc
import json
import micropython
import sys

from umqtt.simple import MQTTClient

import discovery

COUNT = int(sys.argv[1])
DEVICE = "pico-e6614103e7"     # as in docs/protocol.md: "pico-" and the hex of the board's unique id
mem = micropython.mem_total


class Cfg:
    TOPIC_PREFIX = "pico"
    FIRMWARE = "0.1.0"
    HA_PREFIX = "homeassistant"
    HA_DISCOVERY = True


class FakeSocket:
    """Takes what umqtt.simple writes (counting it) and serves the canned PUBACK it then reads."""

    def __init__(self):
        self.sent = 0
        self.puback = bytearray(3)
        self.pos = 3

    def write(self, buf, n=None):
        n = len(buf) if n is None else n
        self.sent += n
        return n

    def can(self, pid):
        self.puback[0] = 2
        self.puback[1] = pid >> 8
        self.puback[2] = pid & 0xFF
        self.pos = 0

    def read(self, n):
        out = self.puback[self.pos:self.pos + n]
        self.pos += n
        return bytes(out)


def client():
    c = MQTTClient("bench", "127.0.0.1")
    c.sock = FakeSocket()

    def wait_msg():
        c.sock.can(c.pid)
        return 0x40
    c.wait_msg = wait_msg
    return c


def kept(make):
    """(result, bytes that stay allocated for it, bytes handed out while making it)."""
    gc.collect()
    a, t = gc.mem_alloc(), mem()
    result = make()
    t = mem() - t
    gc.collect()
    return result, gc.mem_alloc() - a, t


def publishes(c, topic, payload, n):
    """(bytes handed out per publish, heap growth after n publishes) for publishing `payload` n times.
    The growth includes the measurement's own (32 bytes here with no publish at all)."""
    for _ in range(5):
        c.publish(topic, payload, True, 1)      # warm-up: first-use allocations
    gc.collect()
    a = gc.mem_alloc()
    t = mem()
    for _ in range(n):
        c.publish(topic, payload, True, 1)
    t = mem() - t
    gc.collect()
    return t / n, gc.mem_alloc() - a


def main():
    out = {"count": COUNT}
    msgs, held, made = kept(lambda: discovery.messages(Cfg, DEVICE))
    topic, payload = msgs[0]
    out["payload_bytes"], out["topic_bytes"] = len(payload), len(topic)
    out["kept"], out["build_alloc"] = held, made
    _, plain, _ = kept(lambda: (bytes(len(topic)), bytes(len(payload))))   # baseline: the same lengths as bare bytes
    out["kept_baseline"] = plain
    Cfg.HA_DISCOVERY = "component"
    cmsgs, out["component_kept"], out["component_build_alloc"] = kept(lambda: discovery.messages(Cfg, DEVICE))
    out["component_messages"] = len(cmsgs)
    out["component_payload_bytes"] = sum(len(p) for _, p in cmsgs)
    Cfg.HA_DISCOVERY = True

    c = client()
    small = b"x" * 16
    out["publish_small"], out["growth_small"] = publishes(c, topic, small, COUNT)
    before = c.sock.sent
    out["publish_kept"], out["growth_kept"] = publishes(c, topic, payload, COUNT)
    out["packet_bytes"] = (c.sock.sent - before) // (COUNT + 5)     # what went out: the whole packet

    def rebuilt():
        for _ in range(COUNT):
            t, p = discovery.messages(Cfg, DEVICE)[0]
            c.publish(t, p, True, 1)
    gc.collect()
    t = mem()
    rebuilt()
    out["publish_rebuilt"] = (mem() - t) / COUNT
    out["impl"] = "%s %s" % (sys.implementation.name, ".".join(str(v) for v in sys.implementation.version[:3]))
    print("discovery: " + json.dumps(out))


main()
