# Lesson: find what is on the I2C bus (SDA GP4, SCL GP5), then read the AHT20 temperature and
# humidity sensor at 0x38 twice a second (its commands and data layout from its datasheet).
import time
from machine import Pin, I2C

i2c = I2C(0, scl=Pin(5), sda=Pin(4), freq=100000)
found = i2c.scan()
print("I2C devices found:", [hex(address) for address in found])

AHT20 = 0x38
while True:
    i2c.writeto(AHT20, b"\xac\x33\x00")       # start a measurement
    time.sleep_ms(80)
    while i2c.readfrom(AHT20, 1)[0] & 0x80:     # still busy
        time.sleep_ms(10)
    data = i2c.readfrom(AHT20, 7)
    humidity = ((data[1] << 12) | (data[2] << 4) | (data[3] >> 4)) * 100 / 2**20
    temperature = (((data[3] & 0x0F) << 16) | (data[4] << 8) | data[5]) * 200 / 2**20 - 50
    print("Temperature: %.1f C  Humidity: %.1f %%" % (temperature, humidity))
    time.sleep(0.5)
