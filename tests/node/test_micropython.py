"""The same pure-module cases, run inside the real MicroPython interpreter."""

import os
import re
import subprocess
import sys
from pathlib import Path

from sim.deps import find_micropython

HERE = Path(__file__).resolve().parent
NODE_LIB = HERE.parents[1] / "node" / "lib"
CASES = [p.stem for p in HERE.glob("test_*.py") if p.stem != "test_micropython"]


def test_every_case_file_is_run_by_mp_run():
    listed = re.search(r"MODULES = \(([^)]*)\)", (HERE / "mp_run.py").read_text()).group(1)
    assert sorted(CASES) == sorted(re.findall(r'"(\w+)"', listed))


def test_pure_modules_pass_under_micropython():
    env = dict(os.environ, MICROPYPATH=os.pathsep.join([str(HERE), str(NODE_LIB), ".frozen"]))
    out = subprocess.run([str(find_micropython()), str(HERE / "mp_run.py")], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    m = re.search(r"micropython: (\d+) passed, 0 failed", out.stdout)
    n_cases = sum(len(re.findall(r"^def test_", (HERE / (c + ".py")).read_text(), re.M)) for c in CASES)
    assert m and int(m.group(1)) == n_cases, out.stdout
