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


def error_of(tmp_path, source):
    """Run `source` as a program on the virtual board; it must fail (status 1): its last line, the
    exception a learner reads."""
    program = tmp_path / "lesson.py"
    program.write_text(source)
    done = cli("run", program)
    assert done.returncode == 1, done.stdout + done.stderr
    return done.stdout.splitlines()[-1]
