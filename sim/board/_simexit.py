"""How a program's run on the virtual board ends, for _simmain (loaded only then, so it costs the
program no heap while it runs):

- an uncaught exception's traceback is printed as the unix port prints it (stdout), less the
  frames of the board's own code (_simmain and the stand-ins, which are C on a Pico): what is left
  is the program's lines and the exception;
- a program that ends with a machine.Timer still running leaves the board running, as a Pico's
  REPL keeps its timers after main.py, until Ctrl-C (or `--for`);
- a program that reaches for what the board does not simulate (PIO, the second core, Bluetooth,
  UART, ...) ends with one line saying so, status 1.
"""

import sys


def not_simulated(what):
    """End the program with one line saying that `what` (a module, class or function a Pico has)
    is not simulated, status 1: a SystemExit, so a program's `except Exception` cannot hide it."""
    import _simboard

    _simboard.stop(1, what + " is not simulated: see docs/virtual-board.md")


def print_traceback(e, code):
    """Print e's traceback without the frames of files in `code` (the board's folder), whether
    named by path (loaded from source) or by module name alone (compiled)."""
    import io
    import os

    text = io.StringIO()
    sys.print_exception(e, text)
    own = [n.rpartition(".")[0] for n in os.listdir(code)]
    for line in text.getvalue().split("\n"):
        if line.startswith('  File "'):
            name = line[8:line.find('"', 8)]
            if name in own or name.startswith(code + "/"):
                continue
        if line:
            print(line)


def timers_run_on():
    """Wait while a Timer is still to call back (its callbacks run meanwhile)."""
    timers = sys.modules.get("_simtimer")
    if timers is None or not timers.running():
        return
    import time

    sys.stderr.write("sim: the program has ended; its Timer runs on, as on a Pico (Ctrl-C stops the board)\n")
    while timers.running():
        time.sleep_ms(20)
