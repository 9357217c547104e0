"""Reaching the unix port's own built-in module past a stand-in of the same name.

MicroPython lets a file on sys.path extend an "extensible" built-in module (time, select,
machine, ...); importing with sys.path emptied returns the built-in itself.
"""

import sys


def load(name):
    """The interpreter's built-in module `name`, never a file on sys.path."""
    saved = sys.path
    sys.path = ()
    try:
        return __import__(name)
    finally:
        sys.path = saved


def reexport(name, namespace):
    """`from <built-in name> import *` into `namespace` (a stand-in's globals()), as the stand-in of
    the same name extends it; returns the built-in module itself."""
    mod = load(name)
    for attr in dir(mod):
        if not attr.startswith("_"):
            namespace[attr] = getattr(mod, attr)
    return mod
