# Runs before main.py at every start. A board set up by `python -m deploy` holds two copies of
# the firmware, /firmware/a and /firmware/b; /firmware/active names the one to run (see
# deploy/layout.py). Putting it first on the import path makes `import config` and `import app`
# find that copy, whole, whichever moment the last deploy was interrupted at.
import sys

try:
    with open("/firmware/active") as f:
        _slot = f.read().strip()
    if _slot in ("a", "b"):
        sys.path[0:0] = ["/firmware/" + _slot + "/lib", "/firmware/" + _slot]
    del _slot
except OSError:   # nothing deployed by python -m deploy: the usual path
    pass
