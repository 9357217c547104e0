"""Helpers shared by the virtual board's tests."""

import os
import subprocess
import sys
from pathlib import Path

PROGRAMS = Path(__file__).parent / "programs"
REPO = Path(__file__).resolve().parents[2]


def cli(*args, env=None, timeout=20):
    """Run `python -m sim ARGS` from the repository and return the CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=REPO,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=timeout)
