# A program for two I2C devices (simulated by sim_devices.py beside it): every reading and
# writing call of machine.I2C, and what a missing address does.
from machine import Pin, I2C, SoftI2C

i2c = I2C(1, scl=Pin(7), sda=Pin(6))
print("scan", [hex(a) for a in i2c.scan()])
print("who am i", hex(i2c.readfrom_mem(0x48, 0x0F, 1)[0]))
print("counter", i2c.readfrom_mem(0x48, 0x00, 1)[0], i2c.readfrom_mem(0x48, 0x00, 1)[0])
i2c.writeto_mem(0x48, 0x10, b"\x01\x02\x03")
buf = bytearray(3)
i2c.readfrom_mem_into(0x48, 0x10, buf)
print("registers", list(buf))
print("wrote", i2c.writeto(0x50, b"abc"))
print("echo", i2c.readfrom(0x50, 3))
into = bytearray(2)
i2c.readfrom_into(0x50, into)
print("echo into", bytes(into))
i2c.writeto_then_readfrom(0x50, b"xyz", into)
print("then", bytes(into))
try:
    i2c.readfrom(0x3C, 1)
except OSError as e:
    print("I2C at 0x3c:", e)
soft = SoftI2C(scl=Pin(1), sda=Pin(0))
print("soft scan", [hex(a) for a in soft.scan()])
try:
    soft.writeto(0x3C, b"\x00")
except OSError as e:
    print("SoftI2C at 0x3c:", e)
try:
    I2C(1, scl=Pin(5), sda=Pin(4))
except ValueError as e:
    print("I2C(1) on GP5/GP4:", e)
