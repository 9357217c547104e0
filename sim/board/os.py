"""The `os` module of the virtual board: the unix port's own, with `uname()` answering as a
Raspberry Pi Pico 2 W's does (_simident).

Every other name is the built-in's, looked up at its use (module __getattr__) rather than copied in
at import, and uname is loaded at its first use: the board's own modules and the node import `os`,
and what this module holds sits in every program's heap. (The unix port's extras, `getenv` and
`system` say, stay reachable: the board needs them.)
"""

import _simbuiltin

_os = _simbuiltin.load("os")


def __getattr__(name):
    if name == "uname":
        import _simident

        return _simident.uname
    return getattr(_os, name)
