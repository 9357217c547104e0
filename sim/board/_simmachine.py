"""The parts of the virtual board's `machine` that a program reaches less often than Pin, ADC,
WDT and unique_id (all the node uses): Signal, reset, soft_reset, freq, idle, lightsleep,
disable_irq and enable_irq; and where the rest of the rp2 port's machine is: Timer (_simtimer),
PWM (_simpwm), I2C and SoftI2C (_simi2c), each loaded at its first use, and what is not simulated
(UART, SPI, ...), whose name ends the program with one line saying so.

machine's module __getattr__ calls attr() at the first use of one of these names, so a program
that uses none of them never holds this module in its heap (on a Pico they are C, in flash).
"""

import _simboard
import _simbuiltin
import _simwait
import machine

_freq = [150000000]  # the RP2350's default system clock
_HERE = ("Signal", "reset", "soft_reset", "freq", "idle", "lightsleep", "disable_irq", "enable_irq")
_NOT_SIMULATED = ("UART", "SPI", "SoftSPI", "I2S", "RTC", "USBDevice", "deepsleep", "bootloader")


def attr(name):
    """machine.<name> for a name machine.py does not hold; AttributeError if a Pico has no such name."""
    if name in _HERE:
        return globals()[name]
    if name == "Timer":
        import _simtimer

        return _simtimer.Timer
    if name == "PWM":
        import _simpwm

        return _simpwm.PWM
    if name == "I2C" or name == "SoftI2C":
        import _simi2c

        return getattr(_simi2c, name)
    if name in _NOT_SIMULATED:
        import _simexit

        _simexit.not_simulated("machine." + name)
    raise AttributeError("'module' object has no attribute '%s'" % name)


class Signal:
    """A pin with an optional inversion, like machine.Signal."""

    def __init__(self, pin, *args, invert=False, **kw):
        if not isinstance(pin, machine.Pin):
            pin = machine.Pin(pin, *args, **kw)
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


def reset():
    """Restart the board: on a board with a serial console the console restarts it (boot.py,
    then main.py); elsewhere the program ends with status 4."""
    if _simboard.control("reset"):
        _simboard.wait_for_reset()
    _simboard.stop(4, "machine.reset() called: a real board would reboot here")


def soft_reset():
    raise SystemExit


def freq(*hz):
    """The system clock in Hz (150 MHz); freq(hz) sets it if the RP2350's PLL can make it (else
    ValueError, as on the rp2 port). A PWM's frequency follows it, as on a Pico."""
    if hz:
        import _simident

        if not _simident.sys_clock_ok(int(hz[0]) // 1000):
            raise ValueError("cannot change frequency")
        _freq[0] = int(hz[0]) // 1000 * 1000
        return None
    return _freq[0]


def idle():
    _simbuiltin.load("machine").idle()
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
