# Blinks GP15 three times, printing each step, so a trace can be checked against the prints.
import time
from machine import Pin

led = Pin(15, Pin.OUT)
for i in range(3):
    led.on()
    print("on", i)
    time.sleep_ms(20)
    led.off()
    print("off", i)
    time.sleep_ms(20)
print("done")
