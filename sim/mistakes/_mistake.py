"""MicroPython side of teaching mode (`python -m sim node --mistake NAME`): what every variant module
needs. NOT FIRMWARE: this folder never goes on a board (deploy copies node/ only).

A variant is a module named like the firmware's own (say `shared.py`) in a folder the virtual board
puts before node/lib on the path. It loads the real module with `real()`, takes all of it, and
replaces the one function the mistake is about, so it stays in step with the firmware.
"""

import sys


def real(name, variant_file):
    """The firmware's own module `name` (also kept as sys.modules[name + "_real"]), imported while
    the variant `variant_file` (its `__file__`) is being imported under that same name."""
    here = variant_file.rsplit("/", 1)[0]
    mine = sys.modules[name]
    saved = sys.path[:]
    sys.path[:] = [p for p in saved if p != here]
    del sys.modules[name]
    try:
        mod = __import__(name)
    finally:
        sys.path[:] = saved
        sys.modules[name] = mine    # whoever imports `name` from now on gets the variant
    sys.modules[name + "_real"] = mod
    return mod


def take(variant_globals, mod):
    """Everything the real module defines, into the variant (its own names are set after this)."""
    for key, value in mod.__dict__.items():
        if key not in ("__name__", "__file__"):
            variant_globals[key] = value


def announce(name, what):
    """The one line at start that says which mistake is on (in the node's log format)."""
    from log import log

    log("mistake", "%s is ON (teaching mode, not the real firmware): %s" % (name, what))
