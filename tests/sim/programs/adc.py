# Prints the temperature sensor's and ADC0's readings whenever they change, until stopped.
import time
from machine import ADC, Pin

sensor = ADC(4)
adc0 = ADC(Pin(26))
last = None
print("ready")
while True:
    raw = sensor.read_u16()
    now = (raw, adc0.read_u16())
    if now != last:
        temp = 27 - (raw * 3.3 / 65535 - 0.706) / 0.001721
        print("adc4 %d temp %.1f adc0 %d" % (now[0], temp, now[1]))
        last = now
    time.sleep_ms(10)
