"""Teaching mode: the lesson's mistakes, each switched on in the real firmware on the virtual board with
`python -m sim node --mistake NAME` (docs/lesson.md walks through them).

Each mistake is a folder of variant modules that the virtual board puts before node/lib on the
MicroPython path (sim/runner.py). A variant is named like the firmware module it changes, loads the
real one (`_mistake.real`) and replaces only the one function the mistake is about; its docstring
starts with `MISTAKE <name>`. Nothing here goes on a board: deploy copies node/ only.

This module is the host's side: the names, what each one does, and the folders to put on the path.
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent

# name: (folder, what goes wrong, the lesson's pattern it breaks)
MISTAKES = {
    "lost-update": ("lost_update",
                    "button edges update the state without the lock, with an await between reading it and "
                    "writing it back: one press overwrites another",
                    "an asyncio.Lock around shared state"),
    "live-snapshot": ("live_snapshot",
                      "the publisher sends a shallow copy of the live state, taken without the lock and "
                      "finished after an await: a half-updated snapshot",
                      "readers copy a snapshot under the lock and work outside it"),
    "long-lock": ("long_lock",
                  "the logger holds the lock across its slow console write: every task that needs the "
                  "state waits, the LED among them",
                  "hold the lock only for the change or the copy"),
    "heavy-lock": ("heavy_lock",
                   "each command's settings are saved with a blocking call inside the lock: nothing "
                   "runs meanwhile, both LEDs stall and the ack waits",
                   "keep the work under the lock short, and never block"),
    "busy-poll": ("busy_poll",
                  "a button poller waits for the release by polling without await: while the button is "
                  "held nothing else runs, and after WDT_TIMEOUT_MS the watchdog resets the board",
                  "an Event (or an await) instead of polling"),
}


class UnknownMistake(ValueError):
    pass


def listing():
    """The names and what each does, one per line, for `--mistake list`."""
    width = max(len(n) for n in MISTAKES)
    return "\n".join("%-*s  %s" % (width, name, what) for name, (_, what, _p) in MISTAKES.items())


def path(name):
    """The folders to put first on the MicroPython path for mistake `name` (its variants, then the
    helper they share). Raises UnknownMistake (its message lists the names)."""
    if name not in MISTAKES:
        raise UnknownMistake("no mistake %r; the mistakes are: %s" % (name, ", ".join(MISTAKES)))
    return [HERE / MISTAKES[name][0], HERE]
