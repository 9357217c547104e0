"""machine.PWM of the virtual board: the RP2350's PWM slices, in the rp2 port's arithmetic (its
machine_pwm.c), so that freq(), duty_u16() and duty_ns() read back what a Pico's would, rounding
included.

GPn drives channel n % 2 (A, B) of slice (n >> 1) % 8: GP14 and GP15 share slice 7, hence one
frequency, and GP0..GP15 and GP16..GP29 map onto the same 8 slices (GP0 and GP16 share a channel).
A slice runs
once its frequency and a channel's duty have been set. What a pin then shows, the fraction of the
time it is high, is an output record `pwm 0.42` (pins.log, and `--trace`), written when that
fraction, to two decimals, changes. deinit() stops the slice and the pins show `pwm 0.00`
(a Pico's pin keeps the level it had at that instant). machine loads this module at the first
use of machine.PWM: a program without PWM never holds it.
"""

from micropython import const

import _simboard
import machine

_TOP_MAX = const(65534)
_ALT = const(3)  # Pin.ALT: a pin given to the PWM, no longer the GPIO's

# Per slice (8): the clock divider in 16ths, TOP, whether freq() was set, whether it runs.
_div16 = [16] * 8
_top = [0xFFFF] * 8
_freq_set = [False] * 8
_enabled = [False] * 8
# Per channel (16: slice * 2 + A/B): the compare level, how the duty was set (0: not yet, 1:
# duty_u16, 2: duty_ns) and its value, inverted or not.
_cc = [0] * 16
_duty_type = [0] * 16
_duty = [0] * 16
_invert = [0] * 16
_shown = [None] * 30  # per GPIO: the record last written for it
_defer = [False]  # init() with several arguments starts the slice once, after all of them


def _slice_hz(offset, div16):
    return (16 * machine.freq() + offset) // div16


class PWM:
    def __init__(self, pin, freq=-1, *, duty_u16=-1, duty_ns=-1, invert=-1):
        if not isinstance(pin, machine.Pin):
            pin = machine.Pin(pin)
        if pin._i >= 30:
            raise ValueError("the LED is on the Wi-Fi chip: it has no PWM")
        self._gpio = pin._i
        self._slice = (pin._i >> 1) & 7
        self._ch = self._slice * 2 + (pin._i & 1)
        _invert[self._ch] = 0
        _duty_type[self._ch] = 0
        machine._mode[pin._i] = _ALT
        _shown[pin._i] = None
        self.init(freq, duty_u16=duty_u16, duty_ns=duty_ns, invert=invert)

    def init(self, freq=-1, *, duty_u16=-1, duty_ns=-1, invert=-1):
        _defer[0] = True
        try:
            if freq != -1:
                self._set_freq(freq)
            if duty_u16 != -1:
                self._set_u16(self._ch, duty_u16)
            if duty_ns != -1:
                self._set_ns(self._ch, duty_ns)
            if invert != -1:
                _invert[self._ch] = 1 if invert else 0
        finally:
            _defer[0] = False
        self._start()

    def deinit(self):
        _enabled[self._slice] = False
        self._show()

    def freq(self, *hz):
        s = self._slice
        if not hz:
            return _slice_hz(_div16[s] * (_top[s] + 1) // 2, _div16[s] * (_top[s] + 1))
        self._set_freq(hz[0])
        self._start()
        return None

    def duty_u16(self, *duty):
        c = self._ch
        if not duty:
            top = _top[self._slice]
            return (_cc[c] * 65535 + (top + 1) // 2) // (top + 1)
        self._set_u16(c, duty[0])
        self._start()
        return None

    def duty_ns(self, *duty):
        c = self._ch
        if not duty:
            hz = _slice_hz(_div16[self._slice] // 2, _div16[self._slice])
            return (_cc[c] * 1000000000 + hz // 2) // hz
        self._set_ns(c, duty[0])
        self._start()
        return None

    def __repr__(self):
        return "<PWM slice=%u channel=%u invert=%u>" % (self._slice, self._ch & 1, _invert[self._ch])

    def _set_freq(self, freq):
        """Set the slice's divider and TOP for `freq` Hz, TOP as large as it can be (the finest duty),
        and set both channels' duties again for it, as the rp2 port does."""
        freq = int(freq)
        if freq <= 0:
            raise ValueError("freq too small")
        s = self._slice
        source = machine.freq()
        if (source + freq // 2) // freq < _TOP_MAX:
            div16 = 16
            top = (source + freq // 2) // freq - 1
        else:
            div16 = _slice_hz(_TOP_MAX * freq - 1, _TOP_MAX * freq)
            top = _slice_hz(div16 * freq // 2, div16 * freq) - 1
        if div16 < 16 or top < 0:
            raise ValueError("freq too large")
        if div16 >= 256 * 16:
            raise ValueError("freq too small")
        _div16[s] = div16
        _top[s] = top
        _freq_set[s] = True
        for c in (s * 2, s * 2 + 1):
            if _duty_type[c] == 1:
                self._set_u16(c, _duty[c])
            elif _duty_type[c] == 2:
                self._set_ns(c, _duty[c])

    def _set_u16(self, c, duty):
        duty = int(duty)
        top = _top[c >> 1]
        _cc[c] = min(max((duty * (top + 1) + 65535 // 2) // 65535, 0), 0xFFFF)
        _duty[c] = duty
        _duty_type[c] = 1

    def _set_ns(self, c, duty):
        duty = int(duty)
        hz = _slice_hz(_div16[c >> 1] // 2, _div16[c >> 1])
        cc = (duty * hz + 500000000) // 1000000000
        if cc > 0xFFFF:
            raise ValueError("duty larger than period")
        _cc[c] = max(cc, 0)
        _duty[c] = duty
        _duty_type[c] = 2

    def _start(self):
        s = self._slice
        if not _defer[0] and _freq_set[s] and _duty_type[self._ch]:
            _enabled[s] = True
        self._show()

    def _show(self):
        """Write a record for each pin of this slice given to the PWM whose fraction changed."""
        s = self._slice
        for gpio in (s * 2, s * 2 + 1, s * 2 + 16, s * 2 + 17):
            if gpio >= 30 or machine._mode[gpio] != _ALT:
                continue
            c = s * 2 + (gpio & 1)
            if not _enabled[s]:
                if _shown[gpio] is None:
                    continue  # never ran: nothing to show yet
                high = 0.0
            else:
                high = min(_cc[c] / (_top[s] + 1), 1.0)
                if _invert[c]:
                    high = 1.0 - high
            text = "pwm %.2f" % high
            if text != _shown[gpio]:
                _shown[gpio] = text
                _simboard.output_changed("GP%d" % gpio, text)
