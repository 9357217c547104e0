"""Small helpers the test folders share: free ports, waiting for a condition, reading process output."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

PY = sys.executable


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, timeout, what):
    """Poll `condition()` until it returns something truthy; fail the test with `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(0.02)


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
    """A process started for a test: its output lines are collected as they come, and it is stopped
    with SIGINT (then SIGKILL) so it can clean up."""

    def __init__(self, args, **kw):
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  bufsize=1, start_new_session=True, **kw)
        self.lines = []
        self.stamps = []    # time.monotonic() when each line arrived, index for index with `lines`
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.p.stdout:
            self.stamps.append(time.monotonic())
            self.lines.append(line.rstrip("\n"))

    def first_line_after(self, text, since):
        """(monotonic arrival time, line) of the first line with `text` that arrived at or after
        `since` (a time.monotonic() value), or None."""
        for t, line in zip(list(self.stamps), list(self.lines)):
            if t >= since and text in line:
                return t, line
        return None

    def output(self):
        return "\n".join(self.lines)

    def wait_line(self, text, timeout=15):
        return wait_until(lambda: any(text in line for line in self.lines) or self._ended_without(text),
                          timeout, "a line with %r from %s; output so far:\n%s" % (text, self.p.args, self.output()))

    def _ended_without(self, text):
        if self.p.poll() is not None:
            time.sleep(0.1)   # let the pump take the last lines
            if not any(text in line for line in self.lines):
                raise AssertionError("%s ended (status %s) without saying %r:\n%s"
                                     % (self.p.args, self.p.returncode, text, self.output()))
        return False

    def stop(self, timeout=10):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGINT)
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait(timeout)
        return self.p.returncode


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
