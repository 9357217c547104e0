# Lesson: blink with PIO (not simulated: the board says so in one line).
import rp2
from machine import Pin

print("before")


@rp2.asm_pio(set_init=rp2.PIO.OUT_LOW)
def blink():
    set(pins, 1)
    set(pins, 0)


sm = rp2.StateMachine(0, blink, freq=2000, set_base=Pin(15))
sm.active(1)
