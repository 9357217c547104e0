# Lesson: an 8-LED NeoPixel stick on GP16 cycles red, green, blue; then one white LED; then a
# 30-LED strip on GP17 shows a rainbow.
import time
from machine import Pin
from neopixel import NeoPixel

stick = NeoPixel(Pin(16), 8)
for colour in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]:
    stick.fill(colour)
    stick.write()
    time.sleep(0.1)
stick[0] = (255, 255, 255)
stick.write()
print("first pixel", stick[0], "of", len(stick))

strip = NeoPixel(Pin(17), 30)
for i in range(len(strip)):
    strip[i] = (i * 8, 255 - i * 8, 0)
strip.write()
print("done")
