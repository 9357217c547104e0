"""The receiver (its own process, `record`/`watch`'s child): the process that subscribes to the nodes and appends every message to the recording,
and does nothing else, so that recording keeps up with the broker. `record` and `watch` start it as a
child (`python -m monitor.receiving.receiver CONFIG`, see `spawn()`) and check what it writes by following the
file, on the other core (`monitor.live.session`).

It runs on one thread (the subscriber pumps the MQTT connection, the writer is flushed between turns)
and tells its parent what happens in JSON lines on stdout, its events, in this order:

    {"opened": {"offset": B, "line": L}}  the recording is open; this receiver's first line is line L,
                                          at byte B
    {"subscribed": true}                  the broker acknowledged the subscription
    {"notice": TEXT}                      the connection was lost, or is back (in words)
    {"broker": EVENT, "t": T}             the same for the parent's status line: EVENT is "disconnected"
                                          or "reconnected", at T on the wall clock (the `Mark` written
                                          in the recording then)
    {"flushed": N, "messages": M, "upto": T}
                                          N lines are in the file (M messages, and the receiver's own
                                          marks), and so is every message that arrived before T, on the
                                          monotonic clock (`time.monotonic()`, what the recording's `m`
                                          is: a step of the wall clock moves nothing); sent after each
                                          write, and every `HEARTBEAT_S` when nothing arrives
    {"ended": HOW, "count": N}            the last event: HOW is "stopped" or "time is up"
    {"failed": TEXT, "count": N}          the last event after an error (exit status 1)

It stops when its stdin is closed (its parent asked for that, or died) and on SIGTERM; it ignores SIGINT,
which a Ctrl-C sends to the parent's whole process group: the parent decides when to stop.

The receiver, being the process that writes, holds the recording's lock (`Writer`) from before it
subscribes until its last write: a second recorder on the same file fails before it connects (a
`failed` event), and the lock cannot outlive the writes, nor end before them, however either process
ends. After a failed write (a full disk) its counts are those of the records in the file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from monitor.errors import MonitorError, RecordingError
from monitor.receiving.writer import Writer
from monitor.recording import Mark
from monitor.mqtt import PASSWORD_ENV, Security
from monitor.receiving.subscriber import Subscriber

HEARTBEAT_S = 0.1
"""With nothing arriving, a `flushed` event this often: the parent's checker clock moves on."""
_EVENT_MAX = 4000
"""An event line stays under PIPE_BUF (4096 bytes), so each write of one is atomic."""


class Events:
    """The events on stdout (a pipe to the parent). `flushed` events never block the receiver: when the
    pipe is full (the parent is behind) one is dropped, as the next one says more. The others are kept
    in order and written when the pipe has room; the last one waits for it (bounded by the parent)."""

    def __init__(self, fd: int = 1) -> None:
        self.fd = fd
        os.set_blocking(fd, False)
        self._waiting: list[bytes] = []
        self.gone = False                          # the parent closed its end

    def _write(self, data: bytes) -> bool:
        try:
            os.write(self.fd, data)
            return True
        except BlockingIOError:
            return False
        except OSError:  # EPIPE: nobody listens any more
            self.gone = True
            return True

    def retry(self) -> bool:
        """Write what waits, in order, as far as the pipe takes it; whether nothing waits any more."""
        while self._waiting and self._write(self._waiting[0]):
            self._waiting.pop(0)
        return not self._waiting

    def send(self, event: dict[str, Any], *, droppable: bool = False) -> None:
        data = json.dumps(event, separators=(",", ":")).encode()[:_EVENT_MAX] + b"\n"
        if self.retry() and self._write(data):
            return
        if not droppable:
            self._waiting.append(data)

    def last(self, event: dict[str, Any]) -> None:
        """The final event: written even if the parent is slow to read (waiting for room)."""
        self.send(event)
        os.set_blocking(self.fd, True)
        self.retry()


class Receiver:
    """Subscribe, append each message to the recording, tell the parent (see the module docstring)."""

    def __init__(self, config: dict[str, Any], events: Events) -> None:
        self.config = config
        self.events = events
        self.writer: Writer | None = None
        self.subscriber: Subscriber | None = None
        self._beat_at = 0.0
        self._told = 0                             # lines the last `flushed` event reported
        self._stop = False

    def stop(self) -> None:
        """End soon (a plain flag: safe from a signal handler or the stdin watcher)."""
        self._stop = True
        if self.subscriber is not None:
            self.subscriber.stop()

    def _tick(self, now: float) -> float | None:
        """Between turns: write out what is due, tell the parent; when to come back at the latest."""
        writer = self.writer
        assert writer is not None
        upto = time.monotonic()  # every message so far arrived (was stamped) before this, on this thread
        writer.flush_due(now)
        if writer.flush_at is not None:
            return writer.flush_at  # lines wait: nothing to say until they are in the file
        lines = writer.count + writer.marks
        if lines == self._told and now < self._beat_at:
            self.events.retry()
            return self._beat_at
        # lines written (when due, or by the writer itself: a full batch), or a heartbeat
        self._beat_at = now + HEARTBEAT_S
        self._told = lines
        self.events.send({"flushed": lines, "messages": writer.count, "upto": upto}, droppable=True)
        return self._beat_at

    def _mark(self, event: str, reason: str) -> None:
        """The recorder's own absence, written in the recording (a `Mark` line: docs/monitor.md)."""
        assert self.writer is not None
        mark = Mark(time.time(), event, time.monotonic(), reason)
        self.writer.mark(mark)
        self.events.send({"broker": event, "t": mark.t})

    def run(self) -> int:
        config = self.config
        try:
            self.writer = Writer(config["out"])
        except RecordingError as exc:
            self.events.last({"failed": str(exc), "count": 0})
            return 1
        writer = self.writer
        self.events.send({"opened": {"offset": writer.offset, "line": writer.first_line}})
        self.subscriber = Subscriber(config["broker"], writer.write, reconnect_for=config.get("reconnect_for"),
                                     notice=lambda text: self.events.send({"notice": text}),
                                     session=config.get("session"), tick=self._tick, mark=self._mark,
                                     security=Security.from_config(config))
        if self._stop:
            self.subscriber.stop()
        try:
            ended = self.subscriber.run(config.get("duration"),
                                        on_subscribed=lambda: self.events.send({"subscribed": True}))
            writer.close()
        except MonitorError as exc:
            try:
                writer.close()
            except RecordingError:
                pass  # the first failure is the one to report
            self.events.last({"failed": str(exc), "count": writer.count})
            return 1
        self.events.send({"flushed": writer.count + writer.marks, "messages": writer.count,
                          "upto": time.monotonic()})
        self.events.last({"ended": ended, "count": writer.count})
        return 0


def _watch_stdin(receiver: Receiver) -> None:
    """Stop the receiver when stdin ends: the parent closed it, or died."""
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass
    receiver.stop()


def main(argv: list[str]) -> int:
    config = json.loads(argv[0])
    events = Events(sys.stdout.fileno())
    receiver = Receiver(config, events)

    def on_term(signum: int, frame: FrameType | None) -> None:
        receiver.stop()

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, on_term)
    threading.Thread(target=_watch_stdin, args=(receiver,), name="stdin", daemon=True).start()
    return receiver.run()


def spawn(config: dict[str, Any], password: str | None = None) -> subprocess.Popen[bytes]:
    """Start a receiver with `config` (`out`, `broker`, and optionally `reconnect_for`, `session`,
    `duration`, `user`, `tls_ca`): its stdin and stdout are pipes to the caller, its stderr is the caller's.
    The `password` goes in its environment (PICO_MQTT_PASSWORD), never on its command line."""
    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ)
    if password is not None:
        env[PASSWORD_ENV] = password
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.Popen([sys.executable, "-m", "monitor.receiving.receiver", json.dumps(config)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=env, close_fds=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
