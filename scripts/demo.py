"""`make demo`: the whole system for about 20 seconds, then the check report.

Starts the embedded broker on a free loopback port, the monitor recording, and the node on the
virtual board with a script of button presses; sends a few commands (one of them malformed, to show
the node's answer); stops everything; prints `monitor check` on the recording. Every process it starts
is stopped in a `finally`, whatever happened. Exit status: the check's.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
DEVICE = "demo"
NODE_SECONDS = 18

# (seconds after the node starts, what a person would do)
PRESSES = ["14@2.0:1.2", "13@4.0:0.2", "14@6.5:0.4", "13@12.0:0.2", "14@14.0:0.3"]
COMMANDS = [
    (5.0, ["--led", "on"]),
    (8.0, ["--mode", "slow", "--led", "off"]),
    (10.0, ["--raw", '{"id": "demo-bad", "led": "purple"}']),
    (11.0, ["--get"]),
    (13.0, ["--led", "auto"]),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A child process whose output lines are echoed with a tag, and can be waited on for a line."""

    def __init__(self, tag, args):
        self.tag = tag
        self.lines = []
        self.seen = threading.Condition()
        self.ended = False
        self.p = subprocess.Popen([PY, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, bufsize=1, start_new_session=True)
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.p.stdout:
            print("%-8s| %s" % (self.tag, line.rstrip()), flush=True)
            with self.seen:
                self.lines.append(line)
                self.seen.notify_all()
        with self.seen:
            self.ended = True
            self.seen.notify_all()

    def wait_line(self, text, timeout):
        deadline = time.monotonic() + timeout
        with self.seen:
            while not any(text in line for line in self.lines):
                left = deadline - time.monotonic()
                if left <= 0 or self.ended:
                    raise SystemExit("demo: %s did not say %r within %d s" % (self.tag, text, timeout))
                self.seen.wait(left)

    def stop(self, timeout=5):
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGINT)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait(timeout)
        return self.p.returncode


def wait_recorded(path, topic, text, timeout):
    """Wait until the recording holds a message on `topic` whose payload contains `text`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        for line in lines:
            try:
                rec = json.loads(line)
            except ValueError:
                continue   # a line still being written
            if rec.get("topic") == topic and text in rec.get("payload", ""):
                return
        time.sleep(0.05)
    print("demo: no %s message with %r reached the recording %s" % (topic, text, path), file=sys.stderr)


def main():
    port = free_port()
    broker_addr = "127.0.0.1:%d" % port
    out = ROOT / "recordings" / time.strftime("demo-%Y%m%d-%H%M%S.jsonl")
    procs = []
    try:
        broker = Proc("broker", ["-m", "broker", "--port", str(port)])
        procs.append(broker)
        broker.wait_line("listening", 15)
        recorder = Proc("monitor", ["-m", "monitor", "record", "--broker", broker_addr, "--out", str(out)])
        procs.append(recorder)
        recorder.wait_line("recording", 15)
        press_args = [a for p in PRESSES for a in ("--press", p)]
        node = Proc("node", ["-m", "sim", "node", "--broker", broker_addr, "--id", DEVICE,
                             "--for", str(NODE_SECONDS), *press_args])
        procs.append(node)
        start = time.monotonic()
        node.wait_line("connected to", 15)
        for at, args in COMMANDS:
            time.sleep(max(0.0, at - (time.monotonic() - start)))
            print("%-8s| python -m monitor send %s %s" % ("you", DEVICE, " ".join(args)), flush=True)
            send = subprocess.run([PY, "-m", "monitor", "send", DEVICE, "--broker", broker_addr,
                                   "--timeout", "5", *args], cwd=ROOT, capture_output=True, text=True)
            for line in (send.stdout + send.stderr).splitlines():
                print("%-8s| %s" % ("send", line), flush=True)
        node.p.wait(NODE_SECONDS + 15)
        wait_recorded(out, "pico/%s/status" % DEVICE, '"online": false', 10)   # the node's goodbye reached the recorder
    finally:
        for p in reversed(procs):
            p.stop()
    print("\n=== python -m monitor check %s ===" % out.relative_to(ROOT), flush=True)
    return subprocess.run([PY, "-m", "monitor", "check", str(out)], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
