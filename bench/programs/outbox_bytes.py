# Heap bytes one waiting event holds in the node's outbox, in the MicroPython interpreter: an
# Outbox(COUNT) (its ring allocated before counting, as the node allocates it at start) is filled with
# COUNT events made by node/lib/rules.py and stamped with "ts" as Shared stamps them, then
# gc.collect() and gc.mem_alloc() before and after: what stays allocated per event (its body and the
# outbox's entry). The bodies alone are counted the same way, without an outbox.
# Usage: micropython outbox_bytes.py COUNT   (MICROPYPATH: node/lib)
# Prints one line: "outbox: {json}".
import gc
import json
import sys

import rules
from outbox import Outbox

COUNT = int(sys.argv[1])


def button_events(state, n):
    out = []
    while len(out) < n:
        out += rules.button_edge(state, "a", not state["buttons"]["a"])
    return out[:n]


def command_events(field, values):
    """A maker of `n` events of commands that flip `field` between `values` (each carries its command id)."""
    def make(state, n):
        out = []
        while len(out) < n:
            out += rules.apply_command(state, "c%05d" % len(out), {field: values[len(out) % 2]})
        return out[:n]
    return make


def stamped(make, n):
    events = make(rules.initial(), n)
    for i, ev in enumerate(events):
        ev["ts"] = 100000 + i       # an uptime in ms, as Shared stamps it
    return events


def held(fn):
    """Bytes that stay allocated after fn() (its result kept), per COUNT."""
    gc.collect()
    a = gc.mem_alloc()
    kept = fn()
    gc.collect()
    b = gc.mem_alloc()
    return kept, (b - a) / COUNT


def main():
    out = {"count": COUNT}
    for kind, make in (("button", button_events), ("led", command_events("led", ("on", "off"))),
                       ("mode", command_events("mode", ("fast", "slow")))):
        _, body = held(lambda: stamped(make, COUNT))
        box = Outbox(COUNT)

        def fill():
            for ev in stamped(make, COUNT):
                box.put("event", ev)
            return box

        box, total = held(fill)
        assert len(box) == COUNT and box.dropped == 0, (len(box), box.dropped)
        out[kind] = {"per_event": total, "body": body, "outbox": total - body,
                     "json_bytes": len(json.dumps(stamped(make, 1)[0]))}
    out["impl"] = "%s %s" % (sys.implementation.name, ".".join(str(v) for v in sys.implementation.version[:3]))
    print("outbox: " + json.dumps(out))


main()
