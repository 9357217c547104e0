# Floods one MQTT connection with QoS 1 publishes through the node's own link (node/lib/link.py) and
# outbox, in the real MicroPython interpreter on the virtual board: more than 65,536 of them, so the
# packet id must wrap. Prints one result line: "flood: ..." with what went through.
# Usage (python -m sim run): wrap_flood.py NODE_LIB HOST PORT COUNT DEVICE TIME_LIMIT_S
import sys

sys.path.append(sys.argv[1])

import asyncio  # noqa: E402
import time  # noqa: E402

from inbox import Inbox  # noqa: E402
from link import Link  # noqa: E402
from outbox import Outbox  # noqa: E402

HOST, PORT, COUNT, DEVICE, LIMIT_S = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], int(sys.argv[6])


class Cfg:
    TOPIC_PREFIX = "pico"
    BROKER_HOST = HOST
    BROKER_PORT = PORT
    BROKER_USER = None
    BROKER_PASSWORD = None
    BROKER_CA = None
    HA_DISCOVERY = False
    KEEPALIVE_S = 10
    SOCKET_TIMEOUT_S = 5
    RECONNECT_MIN_MS = 200
    RECONNECT_MAX_MS = 1000
    MAX_IN_FLIGHT = 8
    FIRMWARE = "flood"
    HEARTBEAT_S = 5


async def main():
    wake = asyncio.Event()
    outbox = Outbox(64, wake.set)
    link = Link(Cfg, DEVICE, "f100d000", outbox, Inbox(4), wake)
    counts = {"acked": 0, "wraps": 0, "last_pid": 0, "max_pid": 0}

    take_ack = outbox.acked

    def acked(pid):
        ok = take_ack(pid)
        if ok:
            counts["acked"] += 1
        return ok

    outbox.acked = acked
    publish = link._publish

    def counted_publish(kind, body):
        pid = publish(kind, body)
        if pid < counts["last_pid"]:
            counts["wraps"] += 1
        counts["last_pid"] = pid
        if pid > counts["max_pid"]:
            counts["max_pid"] = pid
        return pid

    link._publish = counted_publish
    task = asyncio.create_task(link.run())
    start = time.ticks_ms()
    deadline = time.ticks_add(start, LIMIT_S * 1000)
    while not link.up and time.ticks_diff(deadline, time.ticks_ms()) > 0:
        await asyncio.sleep_ms(10)
    put = 0
    while counts["acked"] < COUNT and time.ticks_diff(deadline, time.ticks_ms()) > 0:
        while put < COUNT and len(outbox) < 60:
            outbox.put("event", {"n": put})
            put += 1
        await asyncio.sleep_ms(0)
    ms = time.ticks_diff(time.ticks_ms(), start)
    print("flood: put %d acked %d connects %d sess %d wraps %d max_pid %d seq %d dropped %d in %d ms"
          % (put, counts["acked"], link.connects, link.sess, counts["wraps"], counts["max_pid"], link.seq,
             outbox.dropped, ms))
    link.stop()
    task.cancel()


asyncio.run(main())
