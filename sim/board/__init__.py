"""This folder is MicroPython code: the virtual board's stand-ins (machine, network, time,
select) that the runner puts first on MICROPYPATH, compiled to .mpy (sim/deps.py board_code)
or as they are. MicroPython never imports this file.

Under CPython, `sim.board` also offers the host's view of a board, `from sim.board import
Board` (defined in sim/pins.py), and the shared formats as `sim.board._simformat`.
"""


def __getattr__(name):
    # Looked up lazily: sim.pins itself imports sim.board._simformat.
    if name == "Board":
        from sim.pins import Board

        return Board
    raise AttributeError(f"module 'sim.board' has no attribute {name!r}")
