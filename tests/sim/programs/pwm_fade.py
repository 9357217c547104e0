# Lesson: fade an LED in with PWM.
import time
from machine import Pin, PWM

led = PWM(Pin(15), freq=1000)
print("freq", led.freq())
for duty in range(0, 65536, 4096):
    led.duty_u16(duty)
    time.sleep_ms(10)
led.duty_u16(65535)
print("duty_u16", led.duty_u16(), "duty_ns", led.duty_ns())
led.duty_ns(250000)
print("duty_u16 at 250000 ns", led.duty_u16())
print("done")
