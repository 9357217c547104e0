"""Starting a MicroPython program (or the node firmware) on the virtual board, watching its
output, and stopping it the way Ctrl-C would: SIGINT, a grace period, then SIGKILL.

The program runs in the real interpreter through the bootstrap _simmain.py, with
MICROPYPATH = [config overrides (node only), a mistake's variants (node --mistake only; sim/mistakes),
the board's code, the program's folder, its lib/, <environment>/micropython-lib, .frozen]. The board's code is sim/board compiled to .mpy in the
environment (deps.board_code(): no compiling of the board's own source in the board's heap), or
sim/board itself when that cannot be had. start_node_console() runs the node on a board with a
serial console instead (sim/console.py).
"""

import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from sim import deps, mistakes, nodeconfig
from sim.console import Console
from sim.board import _simformat as fmt
from sim.errors import SimError
from sim.pins import PINS_LOG, T0_HEADER, Board

SIM_DIR = Path(__file__).resolve().parent
BOARD_CODE = SIM_DIR / "board"
BOOTSTRAP = BOARD_CODE / "_simmain.py"
NODE_DIR = SIM_DIR.parent / "node"
STOP_GRACE_S = 3.0
PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>
NODE_CONFIG_DIR = "node-config"  # in the board directory: the run's config_local.py


class Exited(Exception):
    """The program ended before printing what was expected."""


def micropython_path(program, overrides_dir=None, code=BOARD_CODE):
    """The MICROPYPATH entries for running `program`, first match first; `code`: the folder of
    the board's own modules (deps.board_code())."""
    home = Path(program).resolve().parent
    if isinstance(overrides_dir, (list, tuple)):    # the config, then a mistake's variants (sim/mistakes)
        entries = list(overrides_dir)
    else:
        entries = [overrides_dir] if overrides_dir else []
    entries += [code, home, home / "lib", deps.lib_dir(), ".frozen"]
    return [str(e) for e in entries]


HEAP_USAGE = "--heap takes a size in bytes with an optional K or M, from 16K to 1024M, e.g. 128K, not %r"
HEAP_MIN, HEAP_MAX = 16 * 1024, 1024 * 1024 * 1024


def parse_heap(text):
    """The interpreter's `-X heapsize=` value from a SIZE such as '131072', '128K' or '2M'
    (normalised: '128K'). Raises ValueError(usage)."""
    found = re.fullmatch(r"\s*(\d+)\s*([kKmM]?)\s*", str(text))
    if not found:
        raise ValueError(HEAP_USAGE % text)
    number, unit = int(found.group(1)), found.group(2).upper()
    size = number * {"": 1, "K": 1024, "M": 1024 * 1024}[unit]
    if not HEAP_MIN <= size <= HEAP_MAX:
        raise ValueError(HEAP_USAGE % text)
    return "%d%s" % (number, unit)


def parse_presses(specs):
    """One SIM_PRESS text from --press items like '14@1.0:0.3'. Raises ValueError(usage)."""
    schedule = []
    for spec in specs:
        if not spec.strip():
            raise ValueError(fmt.PRESS_USAGE)
        schedule += fmt.parse_press(spec)
    return fmt.format_press(schedule)


class Run:
    """A program running on the virtual board.

    `process` is its subprocess.Popen. When its output is captured (the default), a thread
    reads it line by line: use expect() and output(), never process.stdout directly.
    `board` is the Board to drive its pins and read its outputs."""

    def __init__(self, process, board, cleanup=()):
        self.process = process
        self.board = board
        self.killed = False
        self._cleanup = list(cleanup)
        self._lines = []
        self._cursor = 0
        self._eof = False
        self._changed = threading.Condition()
        self._reader = None
        if process.stdout is not None:
            self._reader = threading.Thread(target=self._read, daemon=True)
            self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            with self._changed:
                self._lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._eof = True
            self._changed.notify_all()

    def lines(self):
        """Every line the program has printed so far."""
        with self._changed:
            return list(self._lines)

    def output(self):
        return "\n".join(self.lines())

    def expect(self, pattern, timeout=5.0):
        """Wait for the next line (after the one the previous expect() matched) that matches
        the regular expression `pattern`; return its re.Match. Raises TimeoutError, or Exited
        if the program ends first."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                while self._cursor < len(self._lines):
                    line = self._lines[self._cursor]
                    self._cursor += 1
                    found = regex.search(line)
                    if found:
                        return found
                if self._eof:
                    try:
                        status = self.process.wait(STOP_GRACE_S)
                    except subprocess.TimeoutExpired:  # it closed its output but lives on
                        status = "unknown"
                    raise Exited(f"the program ended (status {status}) without printing a "
                                 f"line matching {pattern!r}; it printed:\n" + self._tail())
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no line matching {pattern!r} within {timeout} s; "
                                       f"the program printed:\n" + self._tail())
                self._changed.wait(left)

    def _tail(self, n=30):
        return "\n".join(self._lines[-n:]) or "(nothing)"

    def wait(self, timeout):
        """Wait for the program to end by itself; its exit status. Raises TimeoutError."""
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"the program did not end within {timeout} s") from None
        self._finish()
        return code

    def stop(self, timeout=STOP_GRACE_S):
        """End the program as Ctrl-C would (its finally blocks run) and return its exit
        status; SIGKILL it if it has not ended `timeout` seconds after the SIGINT."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._finish()
        return self.process.returncode

    def kill(self):
        if self.process.poll() is None:
            self.killed = True
            self.process.kill()
        self.process.wait()

    def _finish(self):
        if self._reader is not None:
            self._reader.join(timeout=5.0)
        for path in self._cleanup:
            shutil.rmtree(path, ignore_errors=True)
        self._cleanup = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _dies_with_this_process():
    """A preexec_fn making the child get SIGKILL when this process dies (Linux; elsewhere
    None). A child in its own process group is out of reach of a `kill -9` of the runner's
    group, so without this it would live on, orphaned."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)  # loaded before the fork, not in the child
    parent = os.getpid()

    def arrange():
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the runner died before prctl took effect
            os._exit(1)

    return arrange


def parse_pin(item):
    """A `--pin NAME=VALUE` item as (NAME, VALUE); ValueError saying what is wrong."""
    name, sep, value = item.partition("=")
    if not sep or not name.strip():
        raise ValueError(f"--pin {item}: give NAME=VALUE, e.g. GP14=0 or DHT16=21.5,40")
    return name.strip(), value


def start(program, *args, press=(), trace=False, board_dir=None, overrides_dir=None, env=None,
          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, own_process_group=False,
          heap=None, pins=(), _cleanup=()):
    """Start MicroPython `program` (a .py file) on a virtual board; return its Run.

    press: --press items such as '14@1.0:0.3'. trace: print TRACE lines for output changes.
    board_dir: the board directory (default: a fresh one, removed when the run ends).
    overrides_dir: a folder put first on the path. env: extra environment (SIM_UNIQUE_ID,
    SIM_WIFI_FAIL, ...). stdout/stderr: as for Popen; by default both are captured for
    Run.expect(). own_process_group: run the child in a process group of its own, so that a
    Ctrl-C reaches it only through stop() (once), and on Linux kill it if this process dies
    (what the command line does). heap: the interpreter's heap size ('128K', '2M', bytes; None:
    its default, 2 MB), to run in a heap like a Pico's. pins: `NAME=VALUE` items (as `sim pins`
    takes them: GP14=0, DHT16=21.5,40, ...) driven before the program starts. Raises SimError (no
    interpreter, no such program) or ValueError (press, heap, pins)."""
    program = Path(program).resolve()
    if not program.is_file():
        raise SimError(f"no such program: {program}")
    interpreter = deps.find_micropython()
    code = deps.board_code()
    press_text = parse_presses(press)
    heap_args = ["-X", "heapsize=" + parse_heap(heap)] if heap is not None else []
    settings = [parse_pin(item) for item in pins]
    cleanup = list(_cleanup)
    if board_dir is None:
        board_dir = tempfile.mkdtemp(prefix="sim-board-")
        cleanup.append(board_dir)
    board_dir = Path(board_dir).resolve()
    board_dir.mkdir(parents=True, exist_ok=True)
    try:
        for name, value in settings:
            Board(board_dir).drive(name, value)
    except ValueError:
        for path in cleanup:
            shutil.rmtree(path, ignore_errors=True)
        raise
    child_env = {**os.environ, **(env or {})}
    t0 = time.time_ns()
    # A fresh log per run, its header giving the start so the host can tell board times.
    (board_dir / PINS_LOG).write_text(f"{T0_HEADER}{t0}\n")
    child_env.update({
        "MICROPYPATH": os.pathsep.join(micropython_path(program, overrides_dir, code)),
        "SIM_BOARD": str(board_dir),
        "SIM_T0_NS": str(t0),
        "SIM_PRESS": press_text,
        "SIM_TRACE": "1" if trace else "0",
    })
    try:
        process = subprocess.Popen(
            [str(interpreter), *heap_args, str(code / BOOTSTRAP.name), str(program), *args],
            env=child_env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
            text=True, bufsize=1, encoding="utf-8", errors="replace",
            process_group=0 if own_process_group else None,
            preexec_fn=_dies_with_this_process() if own_process_group else None,
        )
    except OSError as e:
        for path in cleanup:
            shutil.rmtree(path, ignore_errors=True)
        raise SimError(f"cannot start {interpreter}: {e}") from None
    return Run(process, Board(board_dir), cleanup)


def node_program():
    main = NODE_DIR / "main.py"
    if not main.is_file():
        raise SimError(f"the node firmware is missing: no {main}")
    return main


def _write_node_config(overrides, broker, device_id, settings, login, ca):
    pairs = [nodeconfig.parse_setting(s) if isinstance(s, str) else s for s in settings]
    overrides.mkdir(parents=True, exist_ok=True)
    (overrides / "config_local.py").write_text(nodeconfig.config_local(
        broker, device_id, pairs, ca=Path(ca).resolve() if ca is not None else None))
    secrets = overrides / "secrets.py"
    if login is not None:
        fd = os.open(secrets, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(nodeconfig.secrets(*login))
    elif secrets.exists():
        secrets.unlink()            # a board folder used again without --user: no stale login


def start_node(broker=None, device_id=None, settings=(), program=None, heap=None, login=None, ca=None,
               mistake=None, **kw):
    """Start the node firmware (node/main.py, or `program`) on a virtual board with its
    configuration overridden for this run: broker 'HOST:PORT', device_id, settings as
    (KEY, value) pairs or 'KEY=VALUE' texts; heap: the interpreter's heap size, as for start();
    login: (user, password) for the broker, written to the run's secrets.py (mode 0600); ca: the CA
    file that makes the node speak TLS to the broker; mistake: one of sim.mistakes.MISTAKES, its variant
    modules put before the node's own on the path (teaching mode). Other keywords as for start()."""
    program = Path(program) if program else node_program()
    variants = mistakes.path(mistake) if mistake else []
    deps.require_umqtt()
    cleanup = []
    board_dir = kw.pop("board_dir", None)
    if board_dir is None:
        board_dir = tempfile.mkdtemp(prefix="sim-board-")
        cleanup.append(board_dir)
    # In the board directory, so that nothing else is left behind if the runner is killed.
    overrides = Path(board_dir) / NODE_CONFIG_DIR
    try:
        _write_node_config(overrides, broker, device_id, settings, login, ca)
        # SIM_LEAN: the board adds nothing the node does not use (its heap target; sim/board/_simmpy.py).
        kw["env"] = {"SIM_LEAN": "1", **(kw.get("env") or {})}
        return start(program, board_dir=board_dir, overrides_dir=[overrides, *variants], _cleanup=cleanup,
                     heap=heap, **kw)
    except BaseException:
        for path in cleanup:
            shutil.rmtree(path, ignore_errors=True)
        raise


def start_node_console(board_dir, broker=None, device_id=None, settings=(), press=(), heap=None,
                       say=None, login=None, ca=None, mistake=None):
    """Start the node firmware from node/ (configured as by start_node) on a board with a serial
    console in `board_dir`; return its sim.console.Console. The node runs in place of the flash's
    main.py, its modules read from the host, read-only."""
    deps.require_umqtt()
    program = node_program()
    variants = mistakes.path(mistake) if mistake else []
    overrides = Path(board_dir) / NODE_CONFIG_DIR
    _write_node_config(overrides, broker, device_id, settings, login, ca)
    return Console(board_dir, program=program,
                   path=[overrides, *variants, NODE_DIR, NODE_DIR / "lib", deps.lib_dir()], heap=heap,
                   env={"SIM_PRESS": parse_presses(press)}, say=say)
