# An IRQ lesson as MicroPython's docs teach it: the emergency exception buffer first, then a handler
# that only counts and schedules the printing.
import micropython
from micropython import const
from machine import Pin
micropython.alloc_emergency_exception_buf(100)
N = const(3)
count = 0
def on_press(pin):
    global count
    count += 1
    micropython.schedule(lambda _: print("pressed", count), 0)
Pin(14, Pin.IN, Pin.PULL_UP).irq(on_press, Pin.IRQ_FALLING)
import time
time.sleep(1.0)
print("done", N, count)
