# Copies input GP14 (pull-up) to output GP15 until stopped.
import time
from machine import Pin

button = Pin(14, Pin.IN, Pin.PULL_UP)
led = Pin(15, Pin.OUT, value=1)
print("ready")
while True:
    led.value(button.value())
    time.sleep_ms(5)
