"""The virtual board's entry point: runs the program given as its first argument as
`__main__`, the way the board runs main.py, and makes a stop by Ctrl-C (SIGINT, what the host
runner sends to end a run) quiet: no traceback, exit status 0. Any other ending keeps the
program's own status; an uncaught exception's traceback leaves out the board's own frames, and a
Timer still running keeps the board running after the program's end (see _simexit).

Before the program runs, `_thread` is replaced by the board's stand-in (_simthread: no second core), and,
unless SIM_LEAN=1 (the node firmware), `micropython` by _simmpy (adds alloc_emergency_exception_buf).

Usage (by the host runner): micropython _simmain.py PROGRAM.py [ARGS...]
"""

import sys

# The interpreter puts this script's folder first on sys.path; the runner's MICROPYPATH
# already has it in its intended place, so drop the extra copy to keep that order.
if sys.path and sys.path.count(sys.path[0]) > 1:
    sys.path.pop(0)

import _simthread

sys.modules["_thread"] = _simthread

import os

if os.getenv("SIM_LEAN") != "1":  # not the node firmware (its heap target): see _simmpy
    import _simmpy

    sys.modules["micropython"] = _simmpy


def _run(path):
    sys.argv[:] = sys.argv[1:]
    scope = {"__name__": "__main__", "__file__": path}
    execfile(path, scope)


if len(sys.argv) < 2:
    sys.stderr.write("usage: micropython _simmain.py PROGRAM.py [ARGS...]\n")
    sys.exit(2)
code = sys.argv[0].rpartition("/")[0]  # this script's folder: the board's own modules
try:
    _run(sys.argv[1])
    import _simexit

    _simexit.timers_run_on()
except KeyboardInterrupt:
    sys.exit(0)
except Exception as e:
    try:
        import _simexit

        _simexit.print_traceback(e, code)
    except Exception:  # out of memory, say: the whole traceback
        sys.print_exception(e)
    sys.exit(1)
