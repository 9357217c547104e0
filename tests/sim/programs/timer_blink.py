# Lesson: blink an LED with a Timer. The program only sets the timer up and ends; on a Pico the
# timer keeps blinking the LED (the REPL keeps it), and so does the virtual board.
from machine import Pin, Timer

led = Pin(15, Pin.OUT)
timer = Timer()


def blink(t):
    led.toggle()


timer.init(freq=5, mode=Timer.PERIODIC, callback=blink)  # toggles every 200 ms
print("blinking:", timer)
