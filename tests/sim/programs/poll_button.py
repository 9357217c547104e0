# Polls GP14 (pull-up) every 5 ms for argv[1] seconds and prints each level change with the
# board time it was seen at (seconds since the run's start).
import os
import sys
import time
from machine import Pin

T0 = int(os.getenv("SIM_T0_NS"))


def now():
    return (time.time_ns() - T0) / 1e9


button = Pin(14, Pin.IN, Pin.PULL_UP)
last = button.value()
print("start", last)
while now() < float(sys.argv[1]):
    level = button.value()
    if level != last:
        print("level %d at %.3f" % (level, now()))
        last = level
    time.sleep_ms(5)
print("end")
