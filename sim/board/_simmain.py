"""The virtual board's entry point: runs the program given as its first argument as
`__main__`, the way the board runs main.py, and makes a stop by Ctrl-C (SIGINT, what the host
runner sends to end a run) quiet: no traceback, exit status 0. Any other ending keeps the
program's own status.

Usage (by the host runner): micropython _simmain.py PROGRAM.py [ARGS...]
"""

import sys

# The interpreter puts this script's folder first on sys.path; the runner's MICROPYPATH
# already has it in its intended place, so drop the extra copy to keep that order.
if sys.path and sys.path.count(sys.path[0]) > 1:
    sys.path.pop(0)


def _run(path):
    sys.argv[:] = sys.argv[1:]
    scope = {"__name__": "__main__", "__file__": path}
    execfile(path, scope)


if len(sys.argv) < 2:
    sys.stderr.write("usage: micropython _simmain.py PROGRAM.py [ARGS...]\n")
    sys.exit(2)
try:
    _run(sys.argv[1])
except KeyboardInterrupt:
    sys.exit(0)
