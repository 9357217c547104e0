# What the virtual board's own Python modules cost the program beside them (machine, time, select,
# network: C modules on a Pico, Python on the virtual board), so that the node's figures can be read
# without them: the heap they hold once imported, and what a pin read (machine.Pin.value(), which
# reads the host's pins.in) and one pass of asyncio's wait (select's ipoll with nothing ready, with a
# watchdog armed as the node arms one) allocate. Run on the virtual board with pins.in present (the
# host driving some input): python -m sim run board_modules.py
# Prints one line: "board: {json}".
import gc
import json

gc.collect()
base = gc.mem_alloc()
import machine  # noqa: E402
import network  # noqa: E402,F401
import select  # noqa: E402
import time  # noqa: E402,F401

gc.collect()
held = gc.mem_alloc() - base


def per_call(fn, n=200):
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    for _ in range(n):
        fn()
    spent = gc.mem_alloc() - before
    gc.enable()
    return spent / n


pin = machine.Pin(14, machine.Pin.IN, machine.Pin.PULL_UP)
poller = select.poll()
wdt = machine.WDT(timeout=8000)


def wait_pass():
    for _ in poller.ipoll(0, 1):
        pass


print("board: " + json.dumps({"held": held, "pin_value": per_call(pin.value), "poll_pass": per_call(wait_pass)}))
