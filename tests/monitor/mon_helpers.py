"""Test plumbing for the monitor's tests: a real amqtt broker in a subprocess, `python -m monitor` in the
background (tests/helpers.Child, whose output lines can be waited for with a deadline), paho clients that
publish like a node or answer commands. Every wait here is for a condition, bounded by a deadline.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt

from tests.helpers import Child, free_port  # noqa: F401  (free_port: for the tests here)

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

BROKER_SCRIPT = r'''
import asyncio, sys, threading
from amqtt.broker import Broker

async def main(port):
    config = {"listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
              "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}}}
    broker = Broker(config)
    await broker.start()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    # stop when our parent closes stdin (or dies): never outlive the test run
    threading.Thread(target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(stop.set)), daemon=True).start()
    print(f"READY {port}", flush=True)
    await stop.wait()
    await broker.shutdown()

asyncio.run(main(int(sys.argv[1])))
'''


ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def monitor(*args: str, **kwargs) -> Child:
    """`python -m monitor ARGS` running in the background, its stdout and stderr apart (`out`, `err`)."""
    return Child([PYTHON, "-m", "monitor", *args], apart=True, cwd=kwargs.pop("cwd", ROOT), env=ENV, **kwargs)


ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


def terminal(args: list[str], columns: int = 170, rows: int = 40) -> Child:
    """`args` on a pseudo-terminal of `columns` x `rows`, as in a person's terminal (TERM, COLUMNS, LINES)."""
    env = {**ENV, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(rows)}
    env.pop("NO_COLOR", None)
    return Child(args, terminal=(columns, rows), cwd=ROOT, env=env)


def on_screen(term: Child) -> str:
    """What a child on a terminal wrote so far, without its escape sequences."""
    return ANSI.sub("", term.text())


def run_monitor(*args: str, cwd: Path = ROOT, timeout: float = 30) -> subprocess.CompletedProcess:
    """`python -m monitor ARGS` run to its end (bounded by `timeout`)."""
    return subprocess.run([PYTHON, "-m", "monitor", *args], cwd=cwd, env=ENV, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


class AmqttBroker:
    """amqtt 0.12 on a free loopback port, in its own process; ready once it printed READY. It ends
    when its stdin closes: stop(), or the test run dying."""

    def __init__(self, timeout: float = 20) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.proc = Child([PYTHON, "-c", BROKER_SCRIPT, str(self.port)], apart=True, stdin=True, cwd=ROOT)
        try:
            self.proc.wait_line(lambda name, text: name == "out" and text.startswith("READY"), timeout)
        except AssertionError:
            self.proc.kill()
            raise

    def stop(self) -> None:
        self.proc.close_stdin()
        try:
            self.proc.finish(10)
        except AssertionError:
            pass    # it did not stop by itself: finish() killed it


class Client:
    """A paho client for tests (MQTT 3.1.1): connects, subscribes and publishes, each waited for."""

    def __init__(self, address: str, name: str = "test", timeout: float = 5) -> None:
        host, port = address.rsplit(":", 1)
        self.timeout = timeout
        self.received: list[mqtt.MQTTMessage] = []
        self.cond = threading.Condition()
        self.on_message: Callable[[Client, mqtt.MQTTMessage], None] | None = None
        self._subacks: set[int] = set()
        self.topics_at_suback: list[list[str]] = []  # the topics received when each SUBACK came
        self._connected = threading.Event()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{name}-{os.getpid()}-{id(self)}",
                        protocol=mqtt.MQTTv311)
        c.on_connect = lambda *a: self._connected.set()
        c.on_subscribe = self._subscribed
        c.on_message = self._message
        c.connect(host, int(port))
        c.loop_start()
        self.client = c
        if not self._connected.wait(timeout):
            self.close()
            raise AssertionError("test client could not connect")

    def _subscribed(self, client, userdata, mid, codes, properties) -> None:
        with self.cond:
            self._subacks.add(mid)
            self.topics_at_suback.append([m.topic for m in self.received])
            self.cond.notify_all()

    def _message(self, client, userdata, message) -> None:
        with self.cond:
            self.received.append(message)
            self.cond.notify_all()
        if self.on_message is not None:
            self.on_message(self, message)

    def subscribe(self, topic: str, qos: int = 1) -> None:
        _, mid = self.client.subscribe(topic, qos)
        with self.cond:
            assert self.cond.wait_for(lambda: mid in self._subacks, self.timeout), "no SUBACK"

    def publish(self, topic: str, payload: bytes | str | dict, retain: bool = False, qos: int = 1) -> None:
        if isinstance(payload, dict):
            payload = json.dumps(payload)
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(self.timeout)
        assert info.is_published(), "no PUBACK"

    def wait_received(self, predicate: Callable[[list[mqtt.MQTTMessage]], bool], timeout: float | None = None) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: predicate(self.received), timeout or self.timeout), \
                f"not received: {[(m.topic, m.retain) for m in self.received]}"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
