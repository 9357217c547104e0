# An IRQ on GP14 while the program allocates hard and collects garbage, to show the IRQ
# poller thread (no GIL) and the program do not trip over each other. Prints each edge.
import gc
import time
from machine import Pin

seen = []


def handler(pin):
    seen.append(pin.value())
    print("edge %d level %d" % (len(seen), seen[-1]))


Pin(14, Pin.IN, Pin.PULL_UP).irq(handler)
print("ready")
junk = {}
n = 0
while True:
    n += 1
    junk[n % 500] = ["x" * (n % 50)] * 20
    junk["s%d" % (n % 300)] = str(n) + "abc"
    if n % 2000 == 0:
        gc.collect()
        time.sleep_ms(1)
