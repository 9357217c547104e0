"""`bluetooth` on the virtual board: not simulated (the Pico 2 W's radio does BLE; this board's
Wi-Fi is the host's network). Importing it, or aioble which imports it, ends the program with one
line saying so (see docs/virtual-board.md)."""

import _simexit

_simexit.not_simulated("bluetooth (BLE)")
