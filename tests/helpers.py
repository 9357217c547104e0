"""Small helpers the test folders share: free ports, waiting for a condition with a deadline, the one
wrapper for every process a test starts (Child), reading a monitor recording as it grows."""

import codecs
import fcntl
import json
import os
import pty
import shutil
import signal
import socket
import struct
import subprocess
import sys
import termios
import threading
import time

import pytest

PY = sys.executable


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, timeout, what):
    """Poll `condition()` until it returns something truthy, and return that; fail the test at the
    deadline, saying `what` was awaited (a text, or a function giving it then: output so far)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s"
                                 % (timeout, what() if callable(what) else what))
        time.sleep(0.02)    # the polling interval: the deadline bounds the wait


def fail_or_skip(reason):
    """Something a test needs is missing. Locally it skips; in CI (CI=true) it fails: CI skips nothing."""
    if os.environ.get("CI"):
        pytest.fail(reason + " (in CI, .ci/run should have provided it)")
    pytest.skip(reason)


def require_tool(name):
    """A tool the tests need, by path; missing: see fail_or_skip."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
    if path:
        return path
    fail_or_skip("%s is not installed (apt-get install %s)" % (name, name))


class Child:
    """A process a test starts: the one wrapper for all of them. Its output is collected as it comes,
    line by line with each line's arrival time and stream ("out" or "err"); a test waits for a line
    with a deadline; `stop()` sends SIGINT (so it can clean up), then SIGKILL, and kills whatever is
    left of its process group.

    - stderr is merged into stdout, or kept apart with `apart=True` (`out`, `err`);
    - stdin is /dev/null, or a pipe with `stdin=True` (`write`, `close_stdin`);
    - `terminal=(columns, rows)` runs it on a pseudo-terminal of that size, its controlling terminal,
      for what behaves differently on a terminal (a live screen, a password prompt): `text()` is all
      it wrote, escapes included, and `write` types into it.
    Each child leads its own process group (and session), so a signal to the group reaches its
    children too and never the test run."""

    def __init__(self, args, *, apart=False, stdin=False, terminal=None, **kw):
        self.lines = []
        self.stamps = []    # time.monotonic() when each line arrived, index for index with `lines`
        self.streams = []   # "out" or "err", index for index with `lines`
        self._chunks = []   # on a terminal, everything as it came (a screen is more than its lines)
        self._pumps_terminal = terminal is not None
        self._lock = threading.Lock()
        self._master = None
        if terminal is not None:
            columns, rows = terminal
            self._master, slave = pty.openpty()
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))

            def own_terminal():     # a new session, with the pty as its controlling terminal
                os.setsid()
                fcntl.ioctl(0, termios.TIOCSCTTY, 0)

            try:
                self.p = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave,
                                          preexec_fn=own_terminal, **kw)
            except BaseException:
                os.close(self._master)
                raise
            finally:
                os.close(slave)
            pumps = [(self._pump_terminal, ())]
        else:
            self.p = subprocess.Popen(args, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                      stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE if apart else subprocess.STDOUT,
                                      text=True, bufsize=1, errors="replace", start_new_session=True, **kw)
            pumps = [(self._pump, (self.p.stdout, "out"))]
            if apart:
                pumps.append((self._pump, (self.p.stderr, "err")))
        self._pumps = [threading.Thread(target=f, args=a, daemon=True) for f, a in pumps]
        for t in self._pumps:
            t.start()

    # --- output ----------------------------------------------------------------------------------

    def _add(self, stream, line):
        with self._lock:
            self.stamps.append(time.monotonic())
            self.streams.append(stream)
            self.lines.append(line)

    def _pump(self, pipe, stream):
        for line in pipe:
            self._add(stream, line.rstrip("\n"))

    def _pump_terminal(self):
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        partial = ""
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:     # EIO: every process holding the terminal ended
                data = b""
            text = decoder.decode(data, final=not data)
            with self._lock:
                self._chunks.append(text)
            *whole, partial = (partial + text).split("\n")
            for line in whole:
                self._add("out", line.rstrip("\r"))
            if not data:
                if partial:
                    self._add("out", partial.rstrip("\r"))
                return

    @property
    def out(self):
        return [line for s, line in zip(list(self.streams), list(self.lines)) if s == "out"]

    @property
    def err(self):
        return [line for s, line in zip(list(self.streams), list(self.lines)) if s == "err"]

    def output(self):
        return "\n".join(self.lines)

    def text(self):
        """Everything it wrote so far: on a terminal as it came (a line still being written included),
        else its lines."""
        if not self._pumps_terminal:
            return self.output()
        with self._lock:
            return "".join(self._chunks)

    def first_line_after(self, text, since):
        """(monotonic arrival time, line) of the first line with `text` that arrived at or after
        `since` (a time.monotonic() value), or None."""
        for t, line in zip(list(self.stamps), list(self.lines)):
            if t >= since and text in line:
                return t, line
        return None

    def _find(self, match):
        for stream, line in zip(list(self.streams), list(self.lines)):
            if match(stream, line):
                return line
        return None

    def wait_line(self, match, timeout=15):
        """The first line so far or to come that has the text `match` in it, or for which
        `match(stream, line)` is true; fails at the deadline, or at once if the process ended
        without printing it."""
        test = match if callable(match) else (lambda stream, line: match in line)
        what = "a line %s" % ("with %r" % match if isinstance(match, str) else "as expected")

        def found():
            line = self._find(test)
            if line is not None or self.p.poll() is None:
                return line
            self._drain()
            line = self._find(test)
            if line is None:
                raise AssertionError("%s ended (status %s) without printing %s:\n%s"
                                     % (self.p.args, self.p.returncode, what, self.output()[-6000:]))
            return line
        return wait_until(found, timeout, lambda: "%s from %s; output so far:\n%s"
                          % (what, self.p.args, self.output()[-6000:]))

    def wait_text(self, text, timeout=15):
        """Until `text` is in what it wrote (a prompt with no newline after it, on a terminal)."""
        return wait_until(lambda: text in self.text() or self._ended_without_text(text), timeout,
                          lambda: "%r from %s; it wrote:\n%s" % (text, self.p.args, self.text()[-4000:]))

    def _ended_without_text(self, text):
        if self.p.poll() is not None:
            self._drain()
            if text not in self.text():
                raise AssertionError("%s ended (status %s) without writing %r:\n%s"
                                     % (self.p.args, self.p.returncode, text, self.text()[-4000:]))
        return False

    def _drain(self, timeout=5):
        """Once the process has ended: until its last output is read (its pipes closed)."""
        for t in self._pumps:
            t.join(timeout)

    # --- input -----------------------------------------------------------------------------------

    def write(self, data):
        """Type `data` (text) into its terminal, or its stdin pipe."""
        if self._master is not None:
            os.write(self._master, data.encode())
        else:
            self.p.stdin.write(data)
            self.p.stdin.flush()

    def close_stdin(self):
        if self.p.stdin is not None and not self.p.stdin.closed:
            try:
                self.p.stdin.close()
            except OSError:
                pass

    # --- the end ---------------------------------------------------------------------------------

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p.poll() is None

    def signal(self, sig, group=False):
        """Send `sig` to the process alone, or with `group=True` to its whole group (as a terminal's
        Ctrl-C does)."""
        if group:
            self._signal_group(sig)
        elif self.p.poll() is None:
            self.p.send_signal(sig)

    def finish(self, timeout=15):
        """Wait (bounded) for it to end by itself and for its last output; its exit status. Still
        running at the deadline: killed, and the test fails."""
        try:
            self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("%s still running after %s s:\n%s"
                                 % (self.p.args, timeout, self.output()[-6000:])) from None
        self._cleanup()
        return self.p.returncode

    def kill(self, timeout=10):
        """SIGKILL to the whole group, no chance to clean up."""
        self._signal_group(signal.SIGKILL)
        self.p.wait(timeout)
        self._cleanup()
        return self.p.returncode

    def stop(self, timeout=10):
        """SIGINT to the group (as a terminal's Ctrl-C), SIGKILL after `timeout` s; then whatever is
        left in its group is killed. Its exit status."""
        if self.p.poll() is None:
            self._signal_group(signal.SIGINT)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.p.wait(timeout)
        self._cleanup()
        return self.p.returncode

    def _signal_group(self, sig):
        try:
            os.killpg(self.p.pid, sig)
        except ProcessLookupError:
            pass

    def _cleanup(self):
        self._signal_group(signal.SIGKILL)      # a grandchild that outlived its parent
        self.close_stdin()
        self._drain()
        for pipe in (self.p.stdout, self.p.stderr):
            if pipe is not None and not any(t.is_alive() for t in self._pumps):
                pipe.close()
        if self._master is not None:
            os.close(self._master)
            self._master = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Recording:
    """Reads a monitor recording (JSON Lines) as it grows; node payloads are decoded for the tests."""

    def __init__(self, path):
        self.path = path

    def messages(self, device=None, kind=None):
        out = []
        if not self.path.exists():
            return out
        for line in self.path.read_text(errors="replace").splitlines():
            try:
                rec = json.loads(line)
                payload = json.loads(rec["payload"])
            except (ValueError, KeyError):
                continue   # a torn last line, or not a node message (the recorder's own marks)
            if not isinstance(payload, dict) or not rec["topic"].startswith("pico/"):
                continue   # the broker's $SYS counts, recorded beside the nodes' messages
            _, dev, k = rec["topic"].split("/", 2)
            if (device is None or dev == device) and (kind is None or k == kind):
                out.append(dict(payload, _kind=k, _retain=rec.get("retain", False), _t=rec.get("t")))
        return out

    def wait_for(self, device, kind, match, timeout=10, what=None):
        """The first message of `kind` from `device` for which match(payload) is true."""
        def found():
            for m in self.messages(device, kind):
                if match(m):
                    return m
            return None
        return wait_until(found, timeout, what or "a %s message from %s" % (kind, device))
