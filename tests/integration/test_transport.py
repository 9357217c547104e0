"""The link's transport (node/lib/transport.py) in the real MicroPython interpreter: a whole write goes
straight to the socket and allocates nothing (it is called 4 or 5 times per MQTT packet), and a write to a
peer that stopped reading gives up after the timeout instead of blocking the board."""

import os
import re
import subprocess
from pathlib import Path

from sim.deps import find_micropython
from tests.helpers import free_port

HERE = Path(__file__).resolve().parent
NODE_LIB = HERE.parents[1] / "node" / "lib"


def test_conn_write_is_allocation_free_when_whole_and_bounded_when_stalled():
    env = dict(os.environ, MICROPYPATH=os.pathsep.join([str(NODE_LIB), ".frozen"]))
    out = subprocess.run([str(find_micropython()), str(HERE / "programs" / "transport_write.py"), str(free_port())],
                         env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr
    whole = re.search(r"^whole (\d+) (\d+) (\d+) (\d+) (.*)$", out.stdout, re.M)
    assert whole, out.stdout
    assert whole.group(1, 2, 3, 4) == ("2", "5", "4", "0"), out.stdout
    assert whole.group(5) == repr(b"\x32\x10topic\x32\x10\x00\x00"), out.stdout
    stalled = re.search(r"^stalled (\d+) (\d+) (\d+)$", out.stdout, re.M)
    assert stalled, out.stdout
    errno, ms, written = map(int, stalled.groups())
    assert errno == 110 and 300 <= ms < 3000 and written > 0, out.stdout
