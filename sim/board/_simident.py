"""The virtual board's identity, as a Raspberry Pi Pico 2 W with an RP2350 gives it: os.uname(),
and which system clocks machine.freq() can set. Loaded at its first use (os.uname(), or
machine.freq(hz)): a program that asks neither never holds it.

What the interpreter answers itself and a stand-in cannot change (sys.platform 'linux',
sys.implementation._machine, sys.version) is listed in docs/virtual-board.md.
"""

import sys

_FIELDS = ("sysname", "nodename", "release", "version", "machine")
MACHINE = "Raspberry Pi Pico 2 W with RP2350"


class Uname:
    """What os.uname() returns: fields by name and by index, printed as the rp2 port prints them."""

    def __init__(self, values):
        self._values = values
        for i in range(5):
            setattr(self, _FIELDS[i], values[i])

    def __getitem__(self, i):
        return self._values[i]

    def __len__(self):
        return 5

    def __repr__(self):
        return "(" + ", ".join("%s=%r" % (_FIELDS[i], self._values[i]) for i in range(5)) + ")"


def uname():
    """As on a Pico 2 W: sysname and nodename 'rp2', the machine's name, and the release and
    version of this interpreter (its build, `9458e3a23f on 2026-07-05`, not a Pico firmware's)."""
    v = sys.implementation.version
    release = "%d.%d.%d" % v[:3] + ("-" + v[3] if len(v) > 3 and v[3] else "")
    version = sys.version.split("MicroPython ")[-1]
    return Uname(("rp2", "rp2", release, version, MACHINE))


def sys_clock_ok(khz):
    """Whether the RP2350's PLL makes `khz` from its 12 MHz crystal, as the pico-sdk's
    check_sys_clock_khz finds: a VCO of 750..1600 MHz (12 MHz x 63..133), two post dividers 1..7."""
    for fbdiv in range(63, 134):
        vco = 12000 * fbdiv
        for pd1 in range(7, 0, -1):
            for pd2 in range(pd1, 0, -1):
                if vco == khz * pd1 * pd2:
                    return True
    return False
