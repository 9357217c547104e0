"""I2C on the virtual board: machine.I2C and machine.SoftI2C (machine loads this module at their first
use), the simulated devices on the bus, and the device the board ships, an AHT20 temperature and
humidity sensor.

A device is any object with `address` (7 bits), `write(data)` (the bytes a controller writes to it in one
transaction, b"" for an address-only probe) and `read(n)` (the n bytes it answers a read with).
RegisterDevice is the common kind: a register pointer set by the first byte written, registers in a
bytearray, auto-increment. Devices are attached with attach(device): from a `sim_devices.py` beside the
program (imported at the first I2C()/SoftI2C(): the program itself stays as it would be on a Pico), or
from the program. Every bus sees every attached device, whatever its pins: the simulation has no wires.

The AHT20 (address 0x38) is on the bus while the host sets its reading (`AHT20 TEMP,HUM` in pins.in,
`python -m sim pins AHT20=21.5,40`); without one it is not there, as an unplugged sensor.

An address nobody answers raises OSError: EIO (5) from I2C, as the rp2 port's hardware I2C does, and
ENODEV (19) from SoftI2C, as MicroPython's bit-banged one does (and from I2C for a write of no bytes, which
the rp2 port makes through it).
"""

import errno
import time

import _simboard
import _simdevices

_devices = []  # attached devices, in attach() order
_loaded = [False]  # whether sim_devices.py was looked for


def attach(device):
    """Put `device` on the board's I2C bus (replacing one at the same address); returns it."""
    detach(device.address)
    _devices.append(device)
    return device


def detach(address):
    """Take the device at `address` off the bus."""
    for d in _devices:
        if d.address == address:
            _devices.remove(d)
            return


def _load_devices():
    if _loaded[0]:
        return
    _loaded[0] = True
    try:
        import sim_devices  # noqa: F401  (a file beside the program: it attaches its devices)
    except ImportError as e:
        if "sim_devices" not in str(e):
            raise  # sim_devices.py itself failed to import something: say so


class Device:
    """The device interface: override write() and read()."""

    address = 0x00

    def write(self, data):
        pass

    def read(self, n):
        return bytes(n)


class RegisterDevice(Device):
    """A device whose registers are a bytearray: a write sets the pointer to its first byte and stores the
    rest from there on, a read answers from the pointer on; both move the pointer along. Override
    written(reg, value) to act on a write, or prepare(reg) to refresh registers before a read."""

    def __init__(self, address, size=256):
        self.address = address
        self.regs = bytearray(size)
        self.pointer = 0

    def write(self, data):
        if not data:
            return
        self.pointer = data[0]
        for b in data[1:]:
            self.written(self.pointer, b)
            self.pointer = (self.pointer + 1) % len(self.regs)

    def written(self, reg, value):
        self.regs[reg] = value

    def prepare(self, reg):
        pass

    def read(self, n):
        self.prepare(self.pointer)
        out = bytearray(n)
        for i in range(n):
            out[i] = self.regs[self.pointer]
            self.pointer = (self.pointer + 1) % len(self.regs)
        return bytes(out)


def _crc8(data):
    crc = 0xFF  # the AHT20's: polynomial x^8 + x^5 + x^4 + 1, from 0xFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x31) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


class AHT20(Device):
    """The Aosong AHT20 as its datasheet has it: a status byte (bit 7 busy, bit 3 calibrated); 0xAC 0x33 0x00
    starts a measurement of 80 ms, after which a read gives the status, 20 bits of humidity, 20 bits of
    temperature and a CRC-8. The reading is the host's, taken when the measurement starts."""

    address = 0x38
    MEASURE_MS = 80

    def __init__(self):
        self.started = None  # ticks_ms of the measurement under way
        self.data = bytes(5)

    def present(self):
        return _simboard._PINS_IN and _simdevices.reading(_simboard._PINS_IN, _simdevices.AHT20) is not None

    def write(self, data):
        # 0xBE 0x08 0x00 (initialise) and 0xBA (soft reset) change nothing a reading shows: this one is
        # calibrated from the start, as a real one is from the factory.
        if data[:1] == b"\xba":
            self.started = None
        elif data[:1] == b"\xac":
            self.started = time.ticks_ms()
            value = _simdevices.reading(_simboard._PINS_IN, _simdevices.AHT20) if _simboard._PINS_IN else None
            if value is None:
                return
            limits = _simdevices.RANGES[_simdevices.AHT20]
            temp = _simdevices.clamp(value[0], limits[0])
            hum = _simdevices.clamp(value[1], limits[1])
            h = min(int(round(hum / 100 * (1 << 20))), (1 << 20) - 1)
            t = min(int(round((temp + 50) / 200 * (1 << 20))), (1 << 20) - 1)
            self.data = bytes((h >> 12, (h >> 4) & 0xFF, ((h & 0xF) << 4) | (t >> 16), (t >> 8) & 0xFF, t & 0xFF))

    def read(self, n):
        busy = self.started is not None and time.ticks_diff(time.ticks_ms(), self.started) < self.MEASURE_MS
        status = (0x80 if busy else 0) | 0x18  # 0x18: calibrated, as drivers check at start
        out = bytes((status,)) + self.data[:5]
        out += bytes((_crc8(out),))
        return (out + bytes(max(0, n - len(out))))[:n]


_aht20 = AHT20()


def _find(address):
    for d in _devices:
        if d.address == address:
            return d
    if address == _aht20.address and _aht20.present():
        return _aht20
    return None


def _pin_number(pin):
    if pin is None:
        return None
    name = getattr(pin, "name", None)
    if name is None:  # a number or a name: the Pin of it
        import machine

        name = machine.Pin(pin).name
    return int(name[2:]) if name.startswith("GP") else -1


class _Bus:
    """What I2C and SoftI2C share: every call is writes and reads of whole transactions (_write, _read),
    each a TRACE line with --trace (`TRACE 0.104 I2C0 0x38 write ac3300`, `... read 1c6666...`, `... 0x3c no
    answer`)."""

    _MISSING = errno.ENODEV
    _NAME = "SoftI2C"

    def __init__(self, freq):
        self.freq = freq
        _load_devices()

    def _trace(self, addr, what):
        if _simboard.TRACE:
            print("TRACE %.3f %s 0x%02x %s" % (_simboard.elapsed(), self._NAME, addr, what))

    def _device(self, addr, error=0):
        d = _find(addr)
        if d is None:
            self._trace(addr, "no answer")
            raise OSError(error or self._MISSING)
        return d

    def _write(self, d, data):
        self._trace(d.address, "write " + data.hex())
        d.write(data)

    def _read(self, d, n):
        data = bytes(d.read(n))
        self._trace(d.address, "read " + data.hex())
        return data

    def scan(self):
        found = [addr for addr in range(0x08, 0x78) if _find(addr) is not None]
        if _simboard.TRACE:
            print("TRACE %.3f %s scan %s" % (_simboard.elapsed(), self._NAME, " ".join("0x%02x" % a for a in found)))
        return found

    def writeto(self, addr, buf, stop=True):
        # The rp2 port writes no bytes through its soft I2C (its hardware cannot), hence ENODEV then.
        self._write(self._device(addr, 0 if buf else errno.ENODEV), bytes(buf))
        return len(buf)

    def writevto(self, addr, vector, stop=True):
        data = b"".join(bytes(b) for b in vector)
        self._write(self._device(addr), data)
        return len(data)

    def readfrom(self, addr, nbytes, stop=True):
        return self._read(self._device(addr), nbytes)

    def readfrom_into(self, addr, buf, stop=True):
        buf[:] = self.readfrom(addr, len(buf))

    def _mem(self, memaddr, addrsize):
        return bytes((memaddr >> s) & 0xFF for s in range(addrsize - 8, -1, -8))

    def readfrom_mem(self, addr, memaddr, nbytes, addrsize=8):
        d = self._device(addr)
        self._write(d, self._mem(memaddr, addrsize))
        return self._read(d, nbytes)

    def readfrom_mem_into(self, addr, memaddr, buf, addrsize=8):
        buf[:] = self.readfrom_mem(addr, memaddr, len(buf), addrsize)

    def writeto_mem(self, addr, memaddr, buf, addrsize=8):
        self._write(self._device(addr), self._mem(memaddr, addrsize) + bytes(buf))

    def writeto_then_readfrom(self, addr, out, into):
        d = self._device(addr)
        self._write(d, bytes(out))
        into[:] = self._read(d, len(into))


# Which pins each hardware I2C can use (rp2): SDA on GPn with n % 4 == 0 (I2C0) or 2 (I2C1), SCL one above.
_DEFAULT_PINS = ((5, 4), (7, 6))  # (scl, sda) of I2C0 and I2C1 on a Pico


class I2C(_Bus):
    _MISSING = errno.EIO
    _NAME = "I2C0"

    def __init__(self, id, freq=400000, *, scl=None, sda=None, timeout=50000):  # as the rp2 port takes them
        if id not in (0, 1):
            raise ValueError("I2C(%s) doesn't exist" % (id,))
        scl_n, sda_n = _pin_number(scl), _pin_number(sda)
        scl_n = _DEFAULT_PINS[id][0] if scl_n is None else scl_n
        sda_n = _DEFAULT_PINS[id][1] if sda_n is None else sda_n
        if not (scl_n & 1 == 1 and (scl_n & 2) >> 1 == id):
            raise ValueError("bad SCL pin")
        if not (sda_n & 1 == 0 and (sda_n & 2) >> 1 == id):
            raise ValueError("bad SDA pin")
        self.id, self.scl, self.sda = id, scl_n, sda_n
        self._NAME = "I2C%d" % id
        _Bus.__init__(self, freq)

    def __repr__(self):
        return "I2C(%d, freq=%d, scl=%d, sda=%d, timeout=50000)" % (self.id, self.freq, self.scl, self.sda)


class SoftI2C(_Bus):
    def __init__(self, scl, sda, freq=400000, timeout=50000):
        if scl is None or sda is None:
            raise TypeError("SoftI2C needs scl and sda pins")
        self.scl, self.sda = _pin_number(scl), _pin_number(sda)
        _Bus.__init__(self, freq)

    def __repr__(self):
        return "SoftI2C(scl=%d, sda=%d, freq=%d)" % (self.scl, self.sda, self.freq)
