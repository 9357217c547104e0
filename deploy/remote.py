"""The board through the `mpremote` command line (its Python API is marked unstable): one
`mpremote connect PORT ...` process per step, commands chained with `+`, each process bounded
in time. Its failures become one-line DeployErrors naming the step.

Every mpremote process interrupts the running program (Ctrl-C). The first one in a deploy also
soft-resets the board, which stops the node cleanly and frees its heap; later ones start with
`resume` (no reset) so the board stays as the previous step left it.
"""

import os
import subprocess
import sys

from deploy.errors import DeployError
from deploy.ports import HELD_HINT


def chain(*commands):
    """One argument list from several mpremote commands (each a list), joined by '+'."""
    argv = []
    for command in commands:
        if argv:
            argv.append("+")
        argv += list(command)
    return argv


def explain(port, output):
    """A one-line reason from mpremote's output."""
    if "failed to access" in output:
        if "://" not in port and not os.path.exists(port):
            return f"{port} went away (the board was unplugged or stopped)"
        return f"{port} is in use by another program: {HELD_HINT}"
    if "ENOSPC" in output or "Errno 28" in output or "No space left" in output:
        return "the flash is full"
    if "could not enter raw repl" in output:
        return (f"the board on {port} does not answer as MicroPython does (a program that "
                "ignores Ctrl-C? press its reset button and try again)")
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "mpremote failed without saying why"


class Remote:
    def __init__(self, port, mpremote=None):
        self.port = port
        self.mpremote = mpremote or [sys.executable, "-m", "mpremote"]
        self.started = False   # whether a first process has soft-reset the board already

    def run(self, step, *commands, timeout=60):
        """Run the commands in one mpremote process; its output. Raises DeployError(step)."""
        argv = self.mpremote + ["connect", self.port]
        if self.started:
            argv.append("resume")
        argv += chain(*commands)
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                    stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise DeployError(step, f"the board on {self.port} stopped answering "
                                    f"(mpremote took more than {timeout} s)") from None
        self.started = True
        output = result.stdout + result.stderr
        if result.returncode != 0 or "Traceback (most recent call last)" in output:
            raise DeployError(step, explain(self.port, output))
        return result.stdout
