"""`_thread` on the virtual board: a Pico 2 W runs a second thread on its second core; this board
does not simulate that (the unix port's threads share no GIL and would run the program's two
threads truly at once, unlike the core-and-lock model a Pico program is written for).
`start_new_thread` ends the program with one line saying so (see docs/virtual-board.md); every
other name (locks, `get_ident`) is the interpreter's own, looked up at its use.

_simmain puts this module in sys.modules as `_thread` before the program runs (`_thread` is a
built-in a file on the path cannot replace). The board's own poller thread starts through REAL.
"""

import _thread as REAL  # imported before this module stands in for it: the built-in


def __getattr__(name):
    if name == "start_new_thread":
        import _simexit  # here, not at import: _simmain imports this module for every program

        _simexit.not_simulated("_thread.start_new_thread (the second core)")
    return getattr(REAL, name)
