# A learner's DHT22 mistakes: reading a sensor on the wrong pin (it is wired to GP16), then reading
# the right one twice in a row, faster than the two seconds a DHT22 needs.
from machine import Pin
import dht

for pin in (15, 16, 16):
    sensor = dht.DHT22(Pin(pin))
    try:
        sensor.measure()
        print("GP%d:" % pin, sensor.temperature(), "C")
    except OSError as e:
        print("GP%d: failed to read the sensor:" % pin, e)
