# A `machine` for running the node in the plain unix-port interpreter, without the virtual board, so
# that bench/node_memory.py can tell the node's own heap and allocations from the board's: the board's
# modules are Python (they hold about 33 KB and allocate on every pin read); a Pico's are C. Pins and
# the ADC are plain attributes here, allocating nothing; nothing drives them, so the buttons stay up.
# Put this folder first on MICROPYPATH: it then replaces the interpreter's own `machine`.


class Pin:
    IN, OUT, PULL_UP, PULL_DOWN = 0, 1, 1, 2

    def __init__(self, ident, mode=0, pull=None, value=None):
        self._v = 1 if pull == Pin.PULL_UP else (value or 0)

    def value(self, v=None):
        if v is None:
            return self._v
        self._v = v


class ADC:
    def __init__(self, channel):
        pass

    def read_u16(self):
        return 14000


class WDT:
    def __init__(self, timeout=5000):
        pass

    def feed(self):
        pass


def unique_id():
    return b"\xe6\x61\x41\x04\x03\x5a\x2b\x2c"


def reset():
    raise SystemExit(1)
