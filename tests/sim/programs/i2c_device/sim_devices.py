# The simulated devices of this program's virtual board: the board imports this file at the
# program's first I2C(), so main.py stays as it would be on a Pico.
from _simi2c import Device, RegisterDevice, attach


class Thermometer(RegisterDevice):
    """A made-up register device at 0x48: WHO_AM_I (0x0F) reads 0xA5; register 0x00 counts the reads of
    it; registers from 0x10 on keep what is written to them."""

    def __init__(self):
        RegisterDevice.__init__(self, 0x48)
        self.regs[0x0F] = 0xA5

    def prepare(self, reg):
        if reg == 0x00:
            self.regs[0x00] = (self.regs[0x00] + 1) & 0xFF


class Echo(Device):
    """At 0x50: answers a read with the bytes last written to it, reversed."""

    address = 0x50

    def __init__(self):
        self.last = b""

    def write(self, data):
        if data:
            self.last = data

    def read(self, n):
        return (bytes(reversed(self.last)) + bytes(n))[:n]


attach(Thermometer())
attach(Echo())
