"""The virtual board: runs MicroPython programs (the node firmware among them) in a real
MicroPython interpreter with stand-ins for a Pico 2 W's machine and network modules, and lets
the host drive its inputs and watch its outputs. See docs/virtual-board.md.
"""
