"""The script sim/console.py runs as `micropython -i _simconsole.py` on a board with a serial
console: it boots the board (see _simboot); the REPL that -i starts next keeps this script's
globals as its namespace, which boot() leaves as bare as a Pico's."""

import _simboot

_simboot.boot(globals())
