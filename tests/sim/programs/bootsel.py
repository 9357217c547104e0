# Lesson: read the BOOTSEL button (driven from outside: `sim pins BOOTSEL=1`).
import time
import rp2

print("ready", rp2.bootsel_button())
last = 0
while True:
    now = rp2.bootsel_button()
    if now != last:
        print("bootsel", now)
        last = now
    time.sleep_ms(10)
