"""`make demo`: the whole system for about 20 seconds, then the check report.

Starts the embedded broker on a free loopback port, the monitor recording, and the node on the
virtual board with a script of button presses; sends a few commands (one of them malformed, to show
the node's answer); stops everything; prints `monitor check` on the recording. Every process it starts
is stopped in a `finally`, whatever happened. Exit status: the check's.

`--secure` (`make demo-secure`): the same, with what docs/security.md sets up: a CA and the broker's
certificate (`python -m broker certs`), a user for the node and one for the monitor (`python -m broker
user add`, random passwords handed over in PICO_MQTT_PASSWORD, never on a command line), the broker
with `--users` and TLS only, the node and the monitor on TLS with their passwords. It also shows an
anonymous client being refused. The certificates and users live in a temporary folder, removed at the end.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
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

    def __init__(self, tag, args, env=None):
        self.tag = tag
        self.lines = []
        self.seen = threading.Condition()
        self.ended = False
        self.p = subprocess.Popen([PY, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, bufsize=1, start_new_session=True, env=env)
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


def say(what):
    print("%-8s| %s" % ("you", what), flush=True)


def run_shown(tag, args, env=None):
    """Run `python ARGS` to its end, echoing its output with `tag`; its exit status."""
    done = subprocess.run([PY, *args], cwd=ROOT, capture_output=True, text=True, env=env)
    for line in (done.stdout + done.stderr).splitlines():
        print("%-8s| %s" % (tag, line), flush=True)
    return done.returncode


class Secure:
    """The demo's CA, certificate and users, in a temporary folder; each role's environment and flags."""

    MONITOR = "demo-monitor"

    def __init__(self, folder):
        self.folder = Path(folder)
        self.certs = self.folder / "certs"
        self.users = self.folder / "users"
        self.env = {}
        say("python -m broker certs %s --host localhost" % self.certs)
        if run_shown("broker", ["-m", "broker", "certs", str(self.certs), "--host", "localhost"]):
            raise SystemExit("demo: could not make the certificates")
        for name, role in ((DEVICE, []), (self.MONITOR, ["--monitor"])):
            env = dict(os.environ, PICO_MQTT_PASSWORD=secrets.token_urlsafe(16))
            say("python -m broker user add %s %s %s" % (self.users, name, " ".join(role)))
            if run_shown("broker", ["-m", "broker", "user", "add", str(self.users), name, *role], env=env):
                raise SystemExit("demo: could not add the user %s" % name)
            self.env[name] = env

    def broker_args(self, tls_port, plain_port):
        return ["--users", str(self.users), "--tls", str(self.certs / "server.pem"),
                str(self.certs / "server.key"), "--tls-port", str(tls_port), "--port", str(plain_port)]

    def monitor_args(self):
        return ["--user", self.MONITOR, "--tls-ca", str(self.certs / "ca.pem")]

    def node_args(self):
        return ["--user", DEVICE, "--ca", str(self.certs / "ca.der")]


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="scripts/demo.py", description="The whole system for about 20 s.")
    ap.add_argument("--secure", action="store_true", help="with users, the per-device ACL and TLS")
    ap.add_argument("--recordings", metavar="DIR", default=str(ROOT / "recordings"),
                    help="where the recording goes (default recordings/)")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    secure_mode = args.secure
    port = free_port()
    broker_addr = "127.0.0.1:%d" % port
    out = Path(args.recordings).resolve() / time.strftime("demo-%Y%m%d-%H%M%S.jsonl")
    procs = []
    folder = tempfile.mkdtemp(prefix="picostate-demo-") if secure_mode else None
    try:
        node_env = monitor_env = None
        monitor_args = node_args = broker_args = []
        if secure_mode:
            sec = Secure(folder)
            tls_port = free_port()
            broker_args = sec.broker_args(tls_port, port)
            broker_addr = "localhost:%d" % tls_port   # the name the certificate is for
            node_env, monitor_env = sec.env[DEVICE], sec.env[Secure.MONITOR]
            monitor_args, node_args = sec.monitor_args(), sec.node_args()
        broker = Proc("broker", ["-m", "broker", "--port", str(port), *broker_args])
        procs.append(broker)
        broker.wait_line("listening", 15)
        recorder = Proc("monitor", ["-m", "monitor", "record", "--broker", broker_addr, "--out", str(out),
                                    *monitor_args], env=monitor_env)
        procs.append(recorder)
        recorder.wait_line("recording", 15)
        press_args = [a for p in PRESSES for a in ("--press", p)]
        node = Proc("node", ["-m", "sim", "node", "--broker", broker_addr, "--id", DEVICE,
                             "--for", str(NODE_SECONDS), *press_args, *node_args], env=node_env)
        procs.append(node)
        start = time.monotonic()
        node.wait_line("connected to", 15)
        if secure_mode:
            say("python -m monitor send %s --led on --broker 127.0.0.1:%d   (a neighbour: no user)"
                % (DEVICE, port))
            run_shown("send", ["-m", "monitor", "send", DEVICE, "--broker", "127.0.0.1:%d" % port,
                               "--timeout", "3", "--led", "on"])
        for at, args in COMMANDS:
            time.sleep(max(0.0, at - (time.monotonic() - start)))
            say("python -m monitor send %s %s" % (DEVICE, " ".join(args + monitor_args)))
            run_shown("send", ["-m", "monitor", "send", DEVICE, "--broker", broker_addr,
                               "--timeout", "5", *args, *monitor_args], env=monitor_env)
        node.p.wait(NODE_SECONDS + 15)
        wait_recorded(out, "pico/%s/status" % DEVICE, '"online": false', 10)   # the node's goodbye reached the recorder
    finally:
        for p in reversed(procs):
            p.stop()
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
    shown = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
    print("\n=== python -m monitor check %s ===" % shown, flush=True)
    return subprocess.run([PY, "-m", "monitor", "check", str(out)], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
