"""The `machine` module of the virtual board: a Raspberry Pi Pico 2 W's Pin, ADC, WDT, unique_id
and reset_cause, on top of the unix port's own machine module. Its other names (Signal, reset,
freq, Timer, PWM, I2C, ...) are in _simmachine, loaded at the first use of one of them (module
__getattr__, at the end): a program that uses none of them (the node) never holds them in its heap,
where on a Pico they are C in flash.

Inputs read what the host drives (see _simboard); every change of an output is recorded in
pins.log. Pin state lives per pin name, not per object, so two Pin objects for the same pin
see the same mode and level, as on the real chip.
"""

import binascii
import os
from micropython import const

import _simbuiltin

# mem32, time_pulse_us, ... of the unix port, re-exported; the board's own idle, Signal and
# soft_reset replace its (in _simmachine: see __getattr__).
_simbuiltin.reexport("machine", globals())
for _name in ("idle", "Signal", "soft_reset"):
    globals().pop(_name, None)
del _name

import _simboard
import _simformat
import _simwait

# _simirq (the IRQ poller) is imported by the first Pin.irq(): a program without IRQs never holds it.

PWRON_RESET = 1  # rp2 values
WDT_RESET = 3

# const() with a leading underscore: the compiler puts the number in place, and the name takes no
# room on the board (the heap, and the interpreter's table of names, which grows by doubling).
_IN = const(0)
_OUT = const(1)
_OPEN_DRAIN = const(2)
_PULL_UP = const(1)

# Each pin's [mode], [pull] and [output level], by index (GPn: n, the LED: GPIO_COUNT): three flat
# lists made whole at import (see _simboard on threads), a few hundred bytes where a list per pin
# took 4.5 KB of a board's heap.
_LED_INDEX = const(30)  # _simformat.GPIO_COUNT
_mode = [_IN] * (_LED_INDEX + 1)
_pull = [None] * (_LED_INDEX + 1)
_level = [0] * (_LED_INDEX + 1)


class Pin:
    IN = _IN
    OUT = _OUT
    OPEN_DRAIN = _OPEN_DRAIN
    ALT = 3
    PULL_UP = _PULL_UP
    PULL_DOWN = 2
    IRQ_FALLING = 4  # rp2 values
    IRQ_RISING = 8

    def __init__(self, id, mode=-1, pull=-1, value=None, alt=-1):
        self.name = _simformat.board_pin_name(id)
        self._i = _LED_INDEX if self.name == _simformat.LED else int(self.name[2:])
        # As on the rp2 port, Pin(id) alone leaves the pin as it is.
        if mode != -1 or pull != -1 or value is not None:
            self.init(mode, pull, value)

    def init(self, mode=-1, pull=-1, value=None, alt=-1):
        i = self._i
        if pull != -1:
            _pull[i] = pull
        if value is not None:
            self._set(value)
        if mode not in (-1, None):
            was_driving = self._driving()
            _mode[i] = mode
            if self._driving() and not was_driving:
                _simboard.output_changed(self.name, _level[i])  # the first level it drives

    def _driving(self):
        mode = _mode[self._i]
        return mode == _OUT or (mode == _OPEN_DRAIN and _level[self._i] == 0)

    def _set(self, level):
        i = self._i
        level = 1 if level else 0
        if level == _level[i]:
            return
        _level[i] = level
        # An open-drain pin drives only LOW; 1 lets go of the line, which is a change too.
        if _mode[i] == _OUT or _mode[i] == _OPEN_DRAIN:
            _simboard.output_changed(self.name, level)

    def _level_now(self, inputs):
        """The level the pin reads: its own if it drives, else its input (called by the IRQ
        poller thread too, with the inputs it already read)."""
        if self._driving():
            return _level[self._i]
        return _simboard.input_level(self.name, _pull[self._i] == _PULL_UP, inputs)

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
        self._set(1 - _level[self._i])

    def mode(self, *m):
        if m:
            self.init(m[0])
            return None
        return _mode[self._i]

    def pull(self, *p):
        if p:
            _pull[self._i] = p[0]
            return None
        return _pull[self._i]

    def irq(self, handler=None, trigger=IRQ_FALLING | IRQ_RISING, hard=False):
        # hard IRQs are scheduled too: the unix port cannot run Python in a signal context.
        import _simirq

        return _simirq.PinIRQ(_simirq.watch(self, handler, trigger))

    def __repr__(self):
        return "Pin(%s, mode=%s)" % (self.name, ("IN", "OUT", "OPEN_DRAIN", "ALT")[_mode[self._i]])


class ADC:
    CORE_TEMP = _simformat.TEMP_CHANNEL

    def __init__(self, id):
        if isinstance(id, Pin):
            n = int(id.name[2:]) if id.name.startswith("GP") else -1
            if not 26 <= n <= 29:
                raise ValueError("Pin doesn't have ADC capabilities")
            self._i = n - 26
        elif isinstance(id, int) and 0 <= id < _simformat.ADC_CHANNELS:
            self._i = id
        elif isinstance(id, int) and 26 <= id <= 29:
            self._i = id - 26
        else:
            raise ValueError("invalid channel")

    def read_u16(self):
        raw = _simboard.driven().get("ADC%d" % self._i)
        if raw is not None:
            return raw
        if self._i == _simformat.TEMP_CHANNEL:
            return _simformat.temp_to_raw(_simformat.DEFAULT_TEMP_C)
        return 0

    def __repr__(self):
        return "<ADC channel=%d>" % self._i


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
    return binascii.unhexlify(os.getenv("SIM_UNIQUE_ID") or "e661410340a82c21")


def reset_cause():
    """PWRON_RESET, or WDT_RESET after the watchdog reset a board with a serial console."""
    return _simboard.RESET_CAUSE


def __getattr__(name):
    # Not cached in this module's globals: the IRQ poller thread reads them, and a dict must not
    # grow under it.
    import _simmachine

    return _simmachine.attr(name)
