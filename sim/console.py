"""The serial console of a virtual board: a pty that speaks the MicroPython REPL, as a Pico's USB
serial port does, so that mpremote and Thonny talk to the board as to a real one.

A Console owns, from start to close():
- the port: a pty kept in raw mode; `DIR/serial` is a symlink to its slave end;
- the interpreter: the real unix port, `micropython -i _simconsole.py` (sim/board/_simboot.py
  boots it), on a pty of its own that is its controlling terminal. So, as on a terminal, a Ctrl-C
  reaches a running program as SIGINT (KeyboardInterrupt), while the REPL, which reads with
  signals off, gets it as a byte;
- one relay thread between the two, which also keeps the watchdog and restarts the interpreter.

Resets, as the rp2 port does them (the unix port itself simply exits at a Ctrl-D on an empty
line, or at sys.exit() in the REPL):
- soft (the interpreter ended by itself, or a SystemExit in boot.py/main.py): print
  `MPY: soft reboot`, start it again in the REPL mode it was in; in the raw REPL only boot.py runs;
- hard (machine.reset(), or the watchdog): start it again fresh: boot.py, main.py, friendly REPL,
  watchdog off, `machine.reset_cause()` WDT_RESET after the watchdog;
- none (a Ctrl-C in the instant between the end of a program and the REPL's prompt, where the unix
  port, unlike the rp2 port, lets SIGINT end it): start it again quietly, without boot.py or
  main.py, in the same REPL mode. The input after that Ctrl-C is held back a moment
  (AFTER_CTRL_C_S) so that it reaches the new interpreter, not the dead one.
The mode is what the REPL last announced on the port (see sim/replstream.py, which also hides the
friendly banner the unix port prints when the console restarts it in the raw REPL with a Ctrl-A);
the board tells the console about the watchdog and machine.reset() on a pipe of its own (see
sim/board/_simboard.py `control`).

Output is never lost or reordered while someone reads the port: when the reader is slower than
the board, the board waits. When nobody has read the port for STALL_S (nothing attached, as a
Pico with no USB host), what is pending is dropped instead, so the board never blocks on it.
"""

import ctypes
import fcntl
import os
import select
import signal
import subprocess
import sys
import termios
import threading
import time
import tty
from pathlib import Path

from sim import deps
from sim.errors import SimError
from sim.pins import PINS_LOG, T0_HEADER, Board
from sim.replstream import ReplStream

BOARD_CODE = Path(__file__).resolve().parent / "board"
ENTRY = BOARD_CODE / "_simconsole.py"
SOFT_REBOOT = b"MPY: soft reboot\r\n"
WATCHDOG_RESET = b"sim: the watchdog reset the board\r\n"
PWRON_RESET, WDT_RESET = 1, 3  # machine's values on rp2
CHUNK = 4096
PENDING_MAX = 64 * 1024  # bytes held for a slow side before the other one is made to wait
STALL_S = 1.0
AFTER_CTRL_C_S = 0.03  # time for a Ctrl-C to take effect before the bytes after it are sent
PR_SET_PDEATHSIG = 1
LOCK_FILE = ".console.lock"


class Console:
    """A virtual board with its REPL on a serial port; starts at once (see module docstring).

    board_dir: the board directory (its flash is board_dir/flash, its port board_dir/serial).
    program: a host .py file the board runs instead of the flash's main.py (the node);
    path: host folders put first on the board's sys.path, read-only (the node's modules);
    heap: `-X heapsize` ('128K'); env: extra environment for the interpreter (SIM_PRESS, ...);
    say: called with a line for the host's log when the board resets.
    Raises SimError if there is no interpreter."""

    def __init__(self, board_dir, program=None, path=(), heap=None, env=None, say=None):
        self.board = Board(board_dir)
        self.dir = self.board.dir.resolve()
        self.flash = self.dir / "flash"
        self.port = self.dir / "serial"
        self._say = say or (lambda line: None)
        self._command = [str(deps.find_micropython())]
        if heap is not None:
            from sim.runner import parse_heap  # here: sim.runner itself imports this module

            try:
                self._command += ["-X", "heapsize=" + parse_heap(heap)]
            except ValueError as e:
                raise SimError(str(e)) from None
        code = deps.board_code()  # the board's modules as .mpy when it can (see deps)
        self._command += ["-i", str(code / ENTRY.name)]
        try:
            self.flash.mkdir(parents=True, exist_ok=True)
            # One console per board directory: a second would share the flash and the port.
            self._lock = open(self.dir / LOCK_FILE, "w")
        except OSError as e:
            raise SimError(f"cannot use {self.dir} as a board directory: {e.strerror}") from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise SimError(f"a board with a serial console already runs in {self.dir}") from None
        t0 = time.time_ns()
        (self.dir / PINS_LOG).write_text(f"{T0_HEADER}{t0}\n")
        # Without HOME the unix port's REPL neither reads nor writes ~/.micropython.history.
        self._env = {k: v for k, v in {**os.environ, **(env or {})}.items() if k != "HOME"}
        self._env.update({
                     "MICROPYPATH": str(code), "SIM_BOARD": str(self.dir),
                     "SIM_T0_NS": str(t0), "SIM_FLASH": str(self.flash),
                     "SIM_PATH": ":".join(str(Path(p).resolve()) for p in path)})
        if program is not None:
            self._env["SIM_MAIN"] = str(Path(program).resolve())
        self._env.setdefault("SIM_PRESS", "")

        self._changed = threading.Condition()
        self.events = []  # 'up', 'soft', 'reset', 'watchdog', 'interrupt', 'crash', in order
        self._closing = False
        self._stopped = False
        self.error = None
        self._process = None
        self._repl = ReplStream()  # the REPL mode it is in; the banner hidden after a restart
        self._cause = PWRON_RESET
        self._wdt = None  # [timeout s, last feed (monotonic)] while the watchdog runs
        self._pending = None  # the reset asked for, done once the interpreter has ended
        self._held_until = 0.0  # input waits until then after a Ctrl-C
        self._quiet_restart = False  # the next start runs neither boot.py nor main.py
        self._control_rest = b""
        self._to_board = bytearray()
        self._to_host = bytearray()
        self._stalled_since = None

        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no signals: bytes pass as they are
        self._control_r, self._control_w = os.pipe()
        self._wake_r, self._wake_w = os.pipe()
        for fd in (self._master, self._control_r, self._wake_r):
            os.set_blocking(fd, False)
        if self.port.is_symlink() or self.port.exists():
            self.port.unlink()
        self.port.symlink_to(os.ttyname(self._slave))
        self._board_fd = None  # the master end of the interpreter's own pty
        self._up = False
        self._thread = threading.Thread(target=self._relay, name="sim-console", daemon=True)
        self._thread.start()

    # --- the interface ----------------------------------------------------------------------

    def wait_up(self, timeout=10.0, count=1):
        """Wait until the interpreter has booted `count` times in all (its flash mounted; the
        port already takes input before that). Raises TimeoutError."""
        return self.wait_event("up", timeout, count)

    def wait_event(self, kind, timeout=10.0, count=1):
        """Wait until `kind` ('up', 'soft', 'reset', 'watchdog', ...) has happened `count`
        times since the start. Raises TimeoutError."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.events.count(kind) < count:
                left = deadline - time.monotonic()
                if left <= 0 or self._closing or self._stopped:
                    raise TimeoutError(f"no {kind!r} #{count} within {timeout} s; "
                                       f"events: {self.events}")
                self._changed.wait(left)

    def wait(self, timeout=None):
        """Wait until the console stops by itself (only an error in the relay does that: see
        `error`) or `timeout` seconds pass (None: forever). True if it stopped."""
        with self._changed:
            return self._changed.wait_for(lambda: self._stopped, timeout)

    def close(self):
        """Switch the board off: end the interpreter and the relay, remove the port's link."""
        with self._changed:
            if self._closing:
                return
            self._closing = True
            self._changed.notify_all()
        os.write(self._wake_w, b"x")
        self._thread.join()
        if self.port.is_symlink():
            self.port.unlink()
        for fd in (self._master, self._slave, self._control_r, self._control_w, self._wake_r,
                   self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self._lock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- the relay thread -------------------------------------------------------------------

    def _relay(self):
        try:
            self._start_interpreter()
            while not self._closing:
                self._step()
        except Exception as e:  # a bug, or the interpreter cannot start: said by wait()/error
            self.error = e
        finally:
            self._end_interpreter()
            with self._changed:
                self._stopped = True
                self._changed.notify_all()

    def _step(self):
        poller = select.poll()
        poller.register(self._wake_r, select.POLLIN)
        poller.register(self._control_r, select.POLLIN)
        host_events = 0
        if len(self._to_board) < PENDING_MAX:
            host_events |= select.POLLIN
        if self._to_host:
            host_events |= select.POLLOUT
        poller.register(self._master, host_events)
        if self._board_fd is not None:
            board_events = 0
            if len(self._to_host) < PENDING_MAX:
                board_events |= select.POLLIN
            if self._to_board and self._up and time.monotonic() >= self._held_until:
                board_events |= select.POLLOUT
            poller.register(self._board_fd, board_events)
        timeout = self._timeout()
        for fd, events in poller.poll(None if timeout is None else max(timeout, 0) * 1000):
            if fd == self._control_r:
                self._read_control()
            elif fd == self._master:
                self._host_ready(events)
            elif fd == self._board_fd:
                self._board_ready(events)
        self._check_watchdog()
        self._check_stall()

    def _timeout(self):
        """Seconds until the next thing the relay must do by itself (None: nothing)."""
        due = []
        if self._wdt is not None:
            due.append(self._wdt[1] + self._wdt[0] - time.monotonic())
        if self._to_host:
            since = self._stalled_since or time.monotonic()
            due.append(since + STALL_S - time.monotonic())
        if self._to_board and self._up and self._held_until > time.monotonic():
            due.append(self._held_until - time.monotonic())
        return min(due) if due else None

    def _host_ready(self, events):
        if events & select.POLLIN:
            try:
                self._to_board += os.read(self._master, CHUNK)
            except BlockingIOError:
                pass
        if events & select.POLLOUT and self._to_host:
            try:
                sent = os.write(self._master, self._to_host)
            except BlockingIOError:
                sent = 0
            del self._to_host[:sent]
            if sent:
                self._stalled_since = None

    def _board_ready(self, events):
        if events & (select.POLLIN | select.POLLHUP | select.POLLERR):
            try:
                data = os.read(self._board_fd, CHUNK)
            except BlockingIOError:
                data = None
            except OSError:  # EIO: every copy of its pty's slave is closed, all output read
                data = b""
            if data:
                self._output(data)
            elif data == b"":
                self._interpreter_ended()
                return
        if events & select.POLLOUT and self._to_board and self._up:
            # Up to a Ctrl-C, then a pause: should it kill the interpreter (see _interpreter_ended),
            # what follows it goes to the next one instead of dying with this one's pty.
            end = self._to_board.find(b"\x03") + 1 or len(self._to_board)
            try:
                sent = os.write(self._board_fd, self._to_board[:end])
            except BlockingIOError:
                sent = 0
            if sent and self._to_board[sent - 1] == 3:
                self._held_until = time.monotonic() + AFTER_CTRL_C_S
            del self._to_board[:sent]

    def _output(self, data):
        self._to_host += self._repl.feed(data)

    def _check_stall(self):
        """Drop what nobody has read for STALL_S (nothing attached to the port)."""
        if not self._to_host:
            self._stalled_since = None
            return
        now = time.monotonic()
        if self._stalled_since is None:
            self._stalled_since = now
        elif now - self._stalled_since >= STALL_S:
            self._to_host.clear()
            termios.tcflush(self._slave, termios.TCIFLUSH)
            self._stalled_since = None

    def _read_control(self):
        try:
            data = os.read(self._control_r, CHUNK)
        except BlockingIOError:
            return
        # Messages are whole lines (one write each); a read may still end inside one.
        data, _, self._control_rest = (self._control_rest + data).rpartition(b"\n")
        for line in data.decode("ascii", "replace").splitlines():
            word, _, arg = line.partition(" ")
            if word == "up":
                self._up = True
                self._event("up")
            elif word == "wdt":
                self._wdt = [int(arg) / 1000, time.monotonic()]
            elif word == "feed" and self._wdt is not None:
                self._wdt[1] = time.monotonic()
            elif word in ("reset", "soft"):
                self._reset(word)

    def _check_watchdog(self):
        if self._wdt is None or time.monotonic() < self._wdt[1] + self._wdt[0]:
            return
        self._read_control()  # a feed that came just in time counts
        if self._wdt is not None and time.monotonic() >= self._wdt[1] + self._wdt[0]:
            self._wdt = None  # a reset turns it off; the board's next WDT() starts it again
            self._say("sim: the watchdog reset the board")
            self._reset("watchdog")

    # --- the interpreter's life -------------------------------------------------------------

    def _reset(self, kind):
        """End the interpreter for a reset of `kind`; it restarts once all its output is read."""
        self._pending = kind
        self._kill()

    def _kill(self):
        if self._process is not None and self._process.poll() is None:
            self._process.kill()

    def _interpreter_ended(self):
        kind, self._pending = self._pending, None
        status = self._process.wait()
        os.close(self._board_fd)
        self._board_fd = None
        booted, self._up = self._up, False
        if kind is None and not booted:  # it cannot start: restarting would only loop
            said = bytes(self._to_host[-300:]).decode("utf-8", "replace").strip()
            raise SimError(f"the interpreter ended (status {status}) before the board booted"
                           + (f": {said}" if said else ""))
        if kind is None and status == -signal.SIGINT:
            # A Ctrl-C between the end of a program and the REPL's prompt, where the unix port
            # lets SIGINT end it: on a Pico it would only give a fresh prompt. Start it again
            # without boot.py and main.py, in the same REPL mode.
            kind = "interrupt"
        elif kind is None:
            # It exited by itself: the REPL's soft reset (Ctrl-D, sys.exit()), or a crash.
            kind = "soft" if status >= 0 else "crash"
        if kind == "interrupt":
            self._quiet_restart = True
        elif kind == "soft":
            self._to_host += SOFT_REBOOT
        else:
            if kind == "watchdog":
                self._to_host += WATCHDOG_RESET
                self._cause = WDT_RESET
            elif kind == "crash":
                self._say(f"sim: the interpreter ended (status {status}): the board restarts")
                self._cause = PWRON_RESET
            else:
                self._cause = PWRON_RESET
                self._say("sim: machine.reset(): the board restarts")
            self._repl.mode = "friendly"
            self._wdt = None
        self._event(kind)
        if not self._closing:
            self._start_interpreter()

    def _start_interpreter(self):
        board_fd, slave = os.openpty()
        attrs = termios.tcgetattr(slave)
        # Raw, but Ctrl-C raises SIGINT, as a terminal does for the unix port: its REPL turns
        # signals off while it reads a line, and back on while code runs.
        attrs[0] = 0  # iflag
        attrs[1] = 0  # oflag: no "\n" -> "\r\n"; the board's bytes go out as they are
        attrs[2] = termios.CS8 | termios.CREAD
        attrs[3] = termios.ISIG | termios.NOFLSH  # a Ctrl-C loses no output
        attrs[6][termios.VINTR] = 3
        for name in ("VQUIT", "VSUSP", "VDSUSP"):
            if hasattr(termios, name):
                attrs[6][getattr(termios, name)] = 0
        attrs[6][termios.VMIN] = 1
        attrs[6][termios.VTIME] = 0
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        boot = "none" if self._quiet_restart else "all"
        self._quiet_restart = False
        env = {**self._env, "SIM_REPL": self._repl.mode, "SIM_RESET_CAUSE": str(self._cause),
               "SIM_BOOT": boot,
               "SIM_CONTROL_FD": str(self._control_w)}
        self._to_host += self._repl.restart()
        if self._repl.mode == "raw":
            # The unix port's REPL starts friendly: a Ctrl-A first takes it back to raw.
            self._to_board[:0] = b"\x01"
        try:
            self._process = subprocess.Popen(
                self._command, stdin=slave, stdout=slave, stderr=slave, env=env,
                pass_fds=(self._control_w,), start_new_session=True,
                preexec_fn=_controlling_terminal_and_death_signal())
        except OSError as e:
            os.close(board_fd)
            raise SimError(f"cannot start {self._command[0]}: {e}") from None
        finally:
            os.close(slave)
        os.set_blocking(board_fd, False)
        self._board_fd = board_fd

    def _end_interpreter(self):
        self._kill()
        if self._process is not None:
            self._process.wait()
        if self._board_fd is not None:
            os.close(self._board_fd)
            self._board_fd = None

    def _event(self, kind):
        with self._changed:
            self.events.append(kind)
            self._changed.notify_all()


def _controlling_terminal_and_death_signal():
    """A preexec_fn: the child's stdin (its pty) becomes its controlling terminal, so that Ctrl-C
    signals it; on Linux it also gets SIGKILL when the thread that started it ends (the console's
    relay, which ends only with the console or with this process)."""
    libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
    parent = os.getpid()

    def arrange():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        if libc is not None:
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:
                os._exit(1)

    return arrange
