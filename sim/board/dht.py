"""The `dht` module of the virtual board: DHT11 and DHT22 (AM2302) temperature and humidity sensors on a
pin, with the API of MicroPython's own driver (drivers/dht, frozen into the rp2 firmware).

The sensor on GPn reads what the host sets in pins.in (`DHTn TEMP,HUM`: `python -m sim pins DHT16=21.5,40`,
or Board.set_dht). The reading is packed into the sensor's five bytes as the real sensor sends them and
unpacked as the real driver does, so a DHT11 gives whole numbers and a DHT22 tenths, each within what the
sensor can measure. A sensor that does not answer (nothing set on that pin: missing, or wired to another
pin) raises OSError(ETIMEDOUT), as the rp2 port's dht_readinto does; so does a measurement sooner than the
sensor allows after the previous one on that pin (DHT11 1 s, DHT22 2 s): a real sensor still busy with
the last one does not answer the start signal. The first time each happens on a pin, sim says why on
stderr (`sim: ...`), which a real board cannot.
"""

import errno
import sys
import time

import _simboard
import _simdevices

_last = {}  # GPn -> ticks_ms of the last measurement on that pin, whichever object made it
_told = []  # (GPn, why) already explained on stderr


def _timeout(name, why, text):
    if (name, why) not in _told:
        _told.append((name, why))
        sys.stderr.write("sim: " + text + "\n")
    raise OSError(errno.ETIMEDOUT)


def dht_readinto(pin, buf, kind="DHT22"):
    """Fill buf (5 bytes) from the sensor on `pin`, as the sensor's 40 bits would; OSError(ETIMEDOUT)
    if it does not answer."""
    name = getattr(pin, "name", None)  # machine.Pin's name, GPn
    if name is None:  # a pin number or name, which the rp2 port takes too
        import _simformat

        name = _simformat.board_pin_name(pin)
    now = time.ticks_ms()
    gap = 1000 if kind == "DHT11" else 2000
    last = _last.get(name)
    _last[name] = now
    value = None
    if _simboard._PINS_IN and name.startswith("GP"):
        value = _simdevices.reading(_simboard._PINS_IN, "DHT" + name[2:])
    if value is None:
        folder = _simboard._PINS_IN[:-8] or "DIR"  # .../pins.in
        _timeout(name, 0, "no DHT sensor on %s: nothing set there (set one: python -m sim pins --board %s DHT%s=21.5,40)"
                 % (name, folder, name[2:]))
    if last is not None and time.ticks_diff(now, last) < gap:
        _timeout(name, 1, "%s on %s read %d ms after the previous reading: it needs %d s between two"
                 % (kind, name, time.ticks_diff(now, last), gap // 1000))
    limits = _simdevices.RANGES[kind]
    temp = _simdevices.clamp(value[0], limits[0])
    hum = _simdevices.clamp(value[1], limits[1])
    if kind == "DHT11":  # whole numbers in bytes 0 and 2 (1 and 3: tenths, which the driver ignores)
        h, t = int(round(hum)), int(round(temp))
        buf[0], buf[1], buf[2], buf[3] = h, 0, t, 0
    else:  # tenths, 16 bits each, the temperature's top bit its sign
        h, t = int(round(hum * 10)), int(round(abs(temp) * 10))
        buf[0], buf[1] = h >> 8, h & 0xFF
        buf[2], buf[3] = (t >> 8) | (0x80 if temp < 0 else 0), t & 0xFF
    buf[4] = (buf[0] + buf[1] + buf[2] + buf[3]) & 0xFF


class DHTBase:
    _KIND = "DHT22"

    def __init__(self, pin):
        self.pin = pin
        self.buf = bytearray(5)

    def measure(self):
        buf = self.buf
        dht_readinto(self.pin, buf, self._KIND)
        if (buf[0] + buf[1] + buf[2] + buf[3]) & 0xFF != buf[4]:
            raise Exception("checksum error")


class DHT11(DHTBase):
    _KIND = "DHT11"

    def humidity(self):
        return self.buf[0]

    def temperature(self):
        return self.buf[2]


class DHT22(DHTBase):
    def humidity(self):
        # / 10 where the driver has * 0.1: the same number in a Pico's 32-bit floats, but in this
        # interpreter's 64-bit ones * 0.1 prints 0.30000000000000004 where a Pico prints 0.3.
        return (self.buf[0] << 8 | self.buf[1]) / 10

    def temperature(self):
        t = ((self.buf[2] & 0x7F) << 8 | self.buf[3]) / 10
        if self.buf[2] & 0x80:
            t = -t
        return t
