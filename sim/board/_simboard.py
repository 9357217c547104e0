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
# (Few module-level names, no temporaries: every global name is one more entry in the table of
# names, which the node fills too and which grows by doubling, 7 KB at once at the node's size.)
T0_NS = int(os.getenv("SIM_T0_NS") or 0) or time.time_ns()
TRACE = os.getenv("SIM_TRACE") == "1"
PRESS = _simformat.parse_press(os.getenv("SIM_PRESS") or "")
_PINS_IN = (os.getenv("SIM_BOARD") or "") and os.getenv("SIM_BOARD") + "/pins.in"  # "": no board dir
_PINS_LOG = _PINS_IN and _PINS_IN[:-2] + "log"  # .../pins.log
_host_open = vfs.VfsPosix().open  # host paths as they are, whatever is mounted at /
# Opened now, while the boot script still runs: a message is then one write(2) (the unix port's
# files are unbuffered), never split, and never lost with the process.
CONTROL = open(int(os.getenv("SIM_CONTROL_FD")), "w") if os.getenv("SIM_CONTROL_FD") else None
RESET_CAUSE = int(os.getenv("SIM_RESET_CAUSE") or 1)  # PWRON_RESET unless the console says


def elapsed():
    """Seconds since the start, on the host's clock."""
    return (time.time_ns() - T0_NS) / 1e9


def reader():
    """What driven() keeps between calls: a buffer pins.in is read into, the bytes last read and
    what they parsed to. One per thread that reads the inputs (the program's is made here, the IRQ
    poller thread makes its own), as they run at the same time, without a GIL."""
    return [bytearray(512), b"", {}]


_MAIN = reader()  # the program's own

# The interpreter keeps the names it has seen (identifiers, and every one-character string: `s[i]`
# and chr() make them) in a table that grows by doubling; at the size the node brings it to, the
# next part is one 7 KB block. On a Pico this board's own ~180 names are in the firmware, and the
# node alone stays below that size; here they push it over, and that happens when a command first
# brings a character the table lacks, in a heap by then too broken up to hold 7 KB in one piece: a
# MemoryError in a 128 KiB heap with 19 KiB free. Making the printable characters' names now (1.6 KB)
# brings that growth forward to while the program is still importing, when the heap is whole.
for _c in range(32, 127):
    chr(_c)
del _c
_log = [None]  # the open pins.log, opened at the first output change


def driven(cache=None):
    """{input name: value} the host drives now ({} without a board directory or pins.in), never
    to be changed by the caller. cache: the calling thread's reader() (default: the program's).

    The file is read afresh on every call (the host may rewrite it at any moment, and renames a new
    file over it, so neither an open file nor its mtime, whole seconds here, would tell), but into
    one buffer, and parsed only when its bytes differ from the last read's: a read of an unchanged
    file allocates only the file object, where reading and parsing it took about 500 bytes, and
    the node's button pollers read their pins 400 times a second. (Until the host first drives an
    input there is no pins.in, and each read costs the OSError that says so.)"""
    if not _PINS_IN:
        return {}
    buf, last, inputs = cache or _MAIN
    try:
        f = _host_open(_PINS_IN, "rb")
    except OSError:
        return {}
    try:
        n = f.readinto(buf)
        if n == len(buf):  # too big for the buffer (never, from the host's tools): as it was
            return _simformat.parse_pins_in((buf + f.read()).decode())
    except OSError:
        return {}
    finally:
        f.close()
    if len(last) == n:
        for i in range(n):  # a counted loop: no iterator, nothing allocated
            if buf[i] != last[i]:
                break
        else:
            return inputs
    text = bytes(buf[:n])
    inputs = _simformat.parse_pins_in(text.decode())
    cache = cache or _MAIN
    cache[1], cache[2] = text, inputs
    return inputs


def input_level(name, pull_up, inputs=None):
    """The level an input pin reads: the host's drive, else LOW while the press schedule
    holds it, else what the pull gives (a pull-up reads 1, anything else 0)."""
    if inputs is None:
        inputs = driven()
    level = inputs.get(name)
    if level is not None:
        return level
    if PRESS and _simformat.pressed(PRESS, name, elapsed()):  # elapsed() allocates: only if needed
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
