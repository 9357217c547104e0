"""The virtual board's link to the host (MicroPython side): the shared clock, the inputs the
host drives (the board directory's `pins.in` and the `SIM_PRESS` schedule) and the record of
output changes (`pins.log`, and `TRACE` lines on stdout when `SIM_TRACE=1`), and, on a board
with a serial console, the control channel to the host's console (file descriptor
`SIM_CONTROL_FD`), which owns the watchdog and the board's resets.

Host files are opened through a VfsPosix object of its own, never through `open()`: on a board
with a serial console `/` is the board's flash, not the host's root.

Every module global is created at import and later only rebound, never added: the IRQ poller
thread reads this module without a GIL, and adding a key to a module's dict while another
thread looks one up is not safe.
"""

import os
import sys
import time
import vfs

import _simformat

# "Start" is the host's time.time_ns() at launch, passed in so host and board agree on times.
_t0 = os.getenv("SIM_T0_NS")
T0_NS = int(_t0) if _t0 else time.time_ns()
BOARD_DIR = os.getenv("SIM_BOARD") or ""
TRACE = os.getenv("SIM_TRACE") == "1"
PRESS = _simformat.parse_press(os.getenv("SIM_PRESS") or "")
_PINS_IN = BOARD_DIR + "/pins.in" if BOARD_DIR else ""
_PINS_LOG = BOARD_DIR + "/pins.log" if BOARD_DIR else ""
_log = [None]  # the open pins.log, opened at the first output change
_host_open = vfs.VfsPosix().open  # host paths as they are, whatever is mounted at /
_control_fd = os.getenv("SIM_CONTROL_FD")
# Opened now, while the boot script still runs: a message is then one write(2) (the unix port's
# files are unbuffered), never split, and never lost with the process.
CONTROL = open(int(_control_fd), "w") if _control_fd else None
RESET_CAUSE = int(os.getenv("SIM_RESET_CAUSE") or 1)  # PWRON_RESET unless the console says


def elapsed():
    """Seconds since the start, on the host's clock."""
    return (time.time_ns() - T0_NS) / 1e9


def driven():
    """{input name: value} the host drives now ({} without a board directory or pins.in).
    Read afresh on every call: the file is tiny and the host may rewrite it at any moment."""
    if not _PINS_IN:
        return {}
    try:
        with _host_open(_PINS_IN, "r") as f:
            text = f.read()
    except OSError:
        return {}
    return _simformat.parse_pins_in(text)


def input_level(name, pull_up, inputs=None):
    """The level an input pin reads: the host's drive, else LOW while the press schedule
    holds it, else what the pull gives (a pull-up reads 1, anything else 0)."""
    if inputs is None:
        inputs = driven()
    level = inputs.get(name)
    if level is not None:
        return level
    if _simformat.pressed(PRESS, name, elapsed()):
        return 0
    return 1 if pull_up else 0


def output_changed(name, level):
    """Record that output `name` now drives `level`: one pins.log line, which the host sees at once
    (the unix port's files are unbuffered: each write is a write(2); its flush() is an fsync, a few
    hundred microseconds that would slow every pin change), and a TRACE line on stdout so traces sit
    in order among the program's prints."""
    line = _simformat.format_change(elapsed(), name, level)
    if TRACE:
        print("TRACE " + line)
    if not _PINS_LOG:
        return
    if _log[0] is None:
        _log[0] = _host_open(_PINS_LOG, "a")
    _log[0].write(line + "\n")


def stop(status, message):
    """End the program the way the real board would end here, telling the user why."""
    sys.stderr.write("sim: " + message + "\n")
    raise SystemExit(status)


def control(message):
    """Tell the host's console `message` (`wdt MS`, `feed`, `reset`, `soft`, `up`); False on a
    board without one."""
    if CONTROL is None:
        return False
    CONTROL.write(message + "\n")
    return True


def wait_for_reset():
    """After asking the console for a reset: wait, doing nothing else, until it restarts the
    interpreter (as a real board runs nothing more once it resets). A Ctrl-C meanwhile is ignored."""
    sleep = time.sleep
    while True:
        try:
            sleep(1)
        except KeyboardInterrupt:
            pass
