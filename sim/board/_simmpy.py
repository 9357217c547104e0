"""`micropython` for a program on the virtual board: the interpreter's own module, plus what the rp2
port has and this unix port lacks: `alloc_emergency_exception_buf()`, which IRQ lessons call first
(on a Pico it sets aside memory for a traceback raised in a hard IRQ; here IRQs run soft, so there is
nothing to set aside and it does nothing). Every other name is the built-in's, looked up at its use.

_simmain puts this module in sys.modules as `micropython` before the program runs (a built-in a file
on the path cannot replace), except for the node firmware (SIM_LEAN=1), which never calls it and whose
heap target leaves no room for it.
"""

import micropython as REAL  # imported before this module stands in for it: the built-in


def alloc_emergency_exception_buf(size):
    if not isinstance(size, int):
        raise TypeError("can't convert %s to int" % type(size).__name__)


def __getattr__(name):
    return getattr(REAL, name)
