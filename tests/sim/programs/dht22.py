# Lesson: a DHT22 temperature and humidity sensor on GP16, read every two seconds.
# (`dht22.py DHT11` reads a DHT11 instead.)
import sys
import time
from machine import Pin
import dht

if len(sys.argv) > 1 and sys.argv[1] == "DHT11":
    sensor = dht.DHT11(Pin(16))
else:
    sensor = dht.DHT22(Pin(16))

while True:
    sensor.measure()
    print("Temperature:", sensor.temperature(), "C  Humidity:", sensor.humidity(), "%")
    time.sleep(2)
