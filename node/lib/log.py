"""The node's console log: one line per call, `[seconds since boot] tag: message`."""

from clock import uptime_ms


def log(tag, msg):
    t = uptime_ms()
    print("[%5d.%03d] %s: %s" % (t // 1000, t % 1000, tag, msg))
