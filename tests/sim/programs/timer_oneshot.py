# Lesson: a one-shot Timer fires once, while the program sleeps; a periodic one counts until
# deinit().
import time
from machine import Timer

ticks = []
Timer(period=300, mode=Timer.ONE_SHOT, callback=lambda t: print("one shot at", time.ticks_ms() - start))
counter = Timer(-1)
start = time.ticks_ms()
counter.init(period=100, callback=lambda t: ticks.append(1))
time.sleep(0.55)
counter.deinit()
n = len(ticks)
time.sleep(0.3)
print("ticks", n, "after deinit", len(ticks) - n)
