"""The `neopixel` module of the virtual board: a strip of WS2812 ("NeoPixel") LEDs on a pin, with the
API of MicroPython's own driver (frozen into the rp2 firmware): np[i] = (r, g, b), np[i], len(np),
np.fill(colour), np.write().

As on the real strip, setting pixels changes only the buffer (kept in the wire's G, R, B order); write()
sends it. Each write() is one pins.log record, `1.302 GP16 neopixel 0-7:ff0000 8:00ff00` (runs of one
colour, r g b [w] in hex), which the host reads back (Board.neopixel(), `python -m sim pins`), and with
--trace a `TRACE` line of the same form, cut short after a few runs of colour for a long strip.
"""

import _simboard
import _simdevices


class NeoPixel:
    ORDER = (1, 0, 2, 3)  # where r, g, b, w go in a pixel's bytes: the LEDs take G, R, B (, W)

    def __init__(self, pin, n, bpp=3, timing=1):
        self.pin = pin
        self.n = n
        self.bpp = bpp
        self.buf = bytearray(n * bpp)
        self.pin.init(pin.OUT)
        self.timing = timing

    def __len__(self):
        return self.n

    def __setitem__(self, i, v):
        offset = i * self.bpp
        for k in range(self.bpp):
            self.buf[offset + self.ORDER[k]] = v[k]

    def __getitem__(self, i):
        offset = i * self.bpp
        return tuple(self.buf[offset + self.ORDER[k]] for k in range(self.bpp))

    def fill(self, v):
        for i in range(self.n):
            self[i] = v

    def write(self):
        colours = [self[i] for i in range(self.n)]
        name = self.pin.name
        t = "%.3f " % _simboard.elapsed()
        if _simboard.TRACE:
            print("TRACE " + t + name + " neopixel " + _simdevices.format_pixels(colours, _simdevices.TRACE_RUNS))
        if _simboard._PINS_LOG:
            log = _simboard._log
            if log[0] is None:
                log[0] = _simboard._host_open(_simboard._PINS_LOG, "a")
            log[0].write(t + name + " neopixel " + _simdevices.format_pixels(colours) + "\n")
