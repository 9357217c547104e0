"""The `machine` module of the virtual board: a Raspberry Pi Pico 2 W's Pin, ADC, WDT and the
board-level functions, on top of the unix port's own machine module.

Inputs read what the host drives (see _simboard); every change of an output is recorded in
pins.log. Pin state lives per pin name, not per object, so two Pin objects for the same pin
see the same mode and level, as on the real chip.
"""

import binascii
import os

import _simbuiltin

# idle, mem32, time_pulse_us, ... of the unix port, re-exported
_idle = _simbuiltin.reexport("machine", globals()).idle

import _simboard
import _simformat
import _simirq
import _simwait

PWRON_RESET = 1  # rp2 values
WDT_RESET = 3
_DEFAULT_UNIQUE_ID = "e661410340a82c21"
_freq = [150000000]  # the RP2350's default system clock

_IN = 0
_OUT = 1
_OPEN_DRAIN = 2
_PULL_UP = 1

# name -> [mode, pull, output level]; every pin made at import (see _simboard on threads).
_pins = {}
for _n in range(_simformat.GPIO_COUNT):
    _pins[_simformat.gpio_name(_n)] = [_IN, None, 0]
_pins[_simformat.LED] = [_IN, None, 0]
del _n


class _PinIRQ:
    """What Pin.irq() returns: flags() is the edge that fired last, trigger() the edges set."""

    def __init__(self, watch):
        self._watch = watch

    def flags(self):
        return self._watch.flags if self._watch else 0

    def trigger(self):
        return self._watch.trigger if self._watch else 0


class Pin:
    IN = _IN
    OUT = _OUT
    OPEN_DRAIN = _OPEN_DRAIN
    ALT = 3
    PULL_UP = _PULL_UP
    PULL_DOWN = 2
    IRQ_FALLING = _simirq.IRQ_FALLING
    IRQ_RISING = _simirq.IRQ_RISING

    def __init__(self, id, mode=-1, pull=-1, value=None, alt=-1):
        self.name = _simformat.board_pin_name(id)
        self._s = _pins[self.name]
        # As on the rp2 port, Pin(id) alone leaves the pin as it is.
        if mode != -1 or pull != -1 or value is not None:
            self.init(mode, pull, value)

    def init(self, mode=-1, pull=-1, value=None, alt=-1):
        s = self._s
        if pull != -1:
            s[1] = pull
        if value is not None:
            self._set(value)
        if mode not in (-1, None):
            was_driving = self._driving()
            s[0] = mode
            if self._driving() and not was_driving:
                _simboard.output_changed(self.name, s[2])  # the first level it drives

    def _driving(self):
        s = self._s
        return s[0] == _OUT or (s[0] == _OPEN_DRAIN and s[2] == 0)

    def _set(self, level):
        s = self._s
        level = 1 if level else 0
        if level == s[2]:
            return
        if s[0] == _OPEN_DRAIN:
            # An open-drain pin drives only LOW; 1 lets go of the line, which is a change too.
            s[2] = level
            _simboard.output_changed(self.name, level)
            return
        s[2] = level
        if s[0] == _OUT:
            _simboard.output_changed(self.name, level)

    def _level_now(self, inputs):
        """The level the pin reads: its own if it drives, else its input (called by the IRQ
        poller thread too, with the inputs it already read)."""
        if self._driving():
            return self._s[2]
        return _simboard.input_level(self.name, self._s[1] == _PULL_UP, inputs)

    def value(self, *x):
        if x:
            self._set(x[0])
            return None
        return self._level_now(None)

    def __call__(self, *x):
        return self.value(*x)

    def on(self):
        self._set(1)

    def off(self):
        self._set(0)

    def high(self):
        self._set(1)

    def low(self):
        self._set(0)

    def toggle(self):
        self._set(1 - self._s[2])

    def mode(self, *m):
        if m:
            self.init(m[0])
            return None
        return self._s[0]

    def pull(self, *p):
        if p:
            self._s[1] = p[0]
            return None
        return self._s[1]

    def irq(self, handler=None, trigger=IRQ_FALLING | IRQ_RISING, hard=False):
        # hard IRQs are scheduled too: the unix port cannot run Python in a signal context.
        return _PinIRQ(_simirq.watch(self, handler, trigger))

    def __repr__(self):
        return "Pin(%s, mode=%s)" % (self.name, ("IN", "OUT", "OPEN_DRAIN", "ALT")[self._s[0]])


class Signal:
    """A pin with an optional inversion, like machine.Signal."""

    def __init__(self, pin, *args, invert=False, **kw):
        if not isinstance(pin, Pin):
            pin = Pin(pin, *args, **kw)
        self._pin = pin
        self._invert = 1 if invert else 0

    def value(self, *x):
        if x:
            self._pin.value((1 if x[0] else 0) ^ self._invert)
            return None
        return self._pin.value() ^ self._invert

    def __call__(self, *x):
        return self.value(*x)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


class ADC:
    CORE_TEMP = _simformat.TEMP_CHANNEL

    def __init__(self, id):
        if isinstance(id, Pin):
            n = int(id.name[2:]) if id.name.startswith("GP") else -1
            if not 26 <= n <= 29:
                raise ValueError("Pin doesn't have ADC capabilities")
            self._ch = n - 26
        elif isinstance(id, int) and 0 <= id < _simformat.ADC_CHANNELS:
            self._ch = id
        elif isinstance(id, int) and 26 <= id <= 29:
            self._ch = id - 26
        else:
            raise ValueError("invalid channel")

    def read_u16(self):
        raw = _simboard.driven().get("ADC%d" % self._ch)
        if raw is not None:
            return raw
        if self._ch == _simformat.TEMP_CHANNEL:
            return _simformat.temp_to_raw(_simformat.DEFAULT_TEMP_C)
        return 0

    def __repr__(self):
        return "<ADC channel=%d>" % self._ch


class WDT:
    """The watchdog. It cannot be stopped once started, like the real one.

    On a board with a serial console the host's console keeps it, as the RP2350 does in hardware:
    it keeps counting across soft resets and while the REPL waits, and when it bites the board
    hard-resets (reset_cause() then says WDT_RESET). Elsewhere a feed later than `timeout` ms
    after the previous one ends the program with status 3, as does a wait (sleep or asyncio
    poll) that outlasts it."""

    def __init__(self, id=0, timeout=5000):
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if not _simboard.control("wdt %d" % timeout):
            _simwait.watchdog(timeout)

    def feed(self):
        if not _simboard.control("feed"):
            _simwait.feed()


def unique_id():
    """8 bytes: SIM_UNIQUE_ID (hex) if set, else a fixed made-up id."""
    return binascii.unhexlify(os.getenv("SIM_UNIQUE_ID") or _DEFAULT_UNIQUE_ID)


def reset_cause():
    """PWRON_RESET, or WDT_RESET after the watchdog reset a board with a serial console."""
    return _simboard.RESET_CAUSE


def reset():
    """Restart the board: on a board with a serial console the console restarts it (boot.py,
    then main.py); elsewhere the program ends with status 4."""
    if _simboard.control("reset"):
        _simboard.wait_for_reset()
    _simboard.stop(4, "machine.reset() called: a real board would reboot here")


def soft_reset():
    raise SystemExit


def freq(*hz):
    if hz:
        _freq[0] = int(hz[0])
        return None
    return _freq[0]


def idle():
    _idle()
    _simwait.check()


def lightsleep(ms=None):
    import time

    time.sleep_ms(ms if ms is not None else 1 << 30)


def disable_irq():
    # Pin IRQ handlers here are scheduled (soft) ones; those run between bytecodes on a real
    # board too, so there is nothing to mask.
    return 0


def enable_irq(state=0):
    pass
