"""The live monitor's two halves: the receiver process (its events, its stop on stdin's end, its
failures) against a real amqtt broker, the event pipe when the parent is slow, and the follower that
reads the recording as it grows."""

from __future__ import annotations

import json
import os
import select
import time

from monitor import recording
from monitor.live.follow import Follower
from monitor.receiving.receiver import Events, spawn
from monitor.record import Record

from .mon_helpers import Client, free_port


def line(n: int) -> bytes:
    return recording.encode(Record(float(n), "pico/x/status", 1, False, b"{}"))


# --- the follower -----------------------------------------------------------------------------------

def test_follower_hands_over_complete_lines_in_order_and_numbers_them(tmp_path):
    path = tmp_path / "rec.jsonl"
    path.write_bytes(line(0))                            # before the offset: not ours
    follower = Follower(path, offset=len(line(0)), first_line=2)
    assert follower.read() == []
    with open(path, "ab") as f:
        f.write(line(1) + line(2)[:10])                  # one whole line, one begun
        f.flush()
        assert follower.read() == [line(1)] and follower.line == 3
        assert follower.read() == []                     # the begun line waits for its end
        f.write(line(2)[10:] + line(3))
        f.flush()
        assert follower.read() == [line(2), line(3)] and follower.line == 5
        f.write(line(4)[:7])
    assert follower.read() == [] and follower.rest() == line(4)[:7]  # a writer killed mid-line
    follower.close()


def test_follower_reads_a_backlog_a_chunk_at_a_time(tmp_path, monkeypatch):
    monkeypatch.setattr("monitor.live.follow.CHUNK", 100)
    path = tmp_path / "rec.jsonl"
    path.write_bytes(b"".join(line(n) for n in range(10)))
    follower = Follower(path)
    got: list[bytes] = []
    for _ in range(100):
        lines = follower.read()
        assert len(lines) <= 1 + 100 // len(line(0))
        got += lines
        if not lines and follower.offset == path.stat().st_size:
            break
    assert got == [line(n) for n in range(10)] and follower.line == 11


# --- the event pipe ---------------------------------------------------------------------------------

def test_events_never_block_on_a_full_pipe_and_keep_the_ones_that_matter():
    r, w = os.pipe()
    try:
        events = Events(w)
        filler = b"x" * 4095 + b"\n"
        while True:                                      # the parent is not reading
            try:
                os.write(w, filler)
            except BlockingIOError:
                break
        events.send({"flushed": 1, "upto": 1.0}, droppable=True)   # dropped: a later one says more
        events.send({"notice": "connection lost"})                 # kept, in order
        events.send({"subscribed": True})
        assert not events.retry()
        data = b""
        while not data.endswith(b'{"subscribed":true}\n'):
            data += os.read(r, 1 << 16)
            events.retry()
        lines = [x for x in data.split(b"\n") if x.startswith(b"{")]
        assert [json.loads(x) for x in lines] == [{"notice": "connection lost"}, {"subscribed": True}]
    finally:
        os.close(r)
        os.close(w)


# --- the receiver process ---------------------------------------------------------------------------

class Receiver:
    """A receiver process with its events read as they come (each wait bounded)."""

    def __init__(self, config: dict) -> None:
        self.proc = spawn(config)
        self.events: list[dict] = []

    def next(self, timeout: float = 15) -> dict:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            assert time.monotonic() < deadline, f"no event within {timeout} s after {self.events}"
            if select.select([self.proc.stdout], [], [], 0.1)[0]:
                byte = self.proc.stdout.read(1)
                assert byte, f"the receiver ended its events after {self.events}"
                line += byte
        self.events.append(json.loads(line))
        return self.events[-1]

    def until(self, key: str, timeout: float = 15) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no {key!r} event within {timeout} s: {self.events}"
            event = self.next(left)
            if key in event:
                return event

    def end(self) -> int:
        try:
            return self.proc.wait(timeout=15)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def test_receiver_records_says_what_is_in_the_file_and_stops_when_stdin_ends(broker, tmp_path):
    out = tmp_path / "rec.jsonl"
    out.write_bytes(line(0))
    rec = Receiver({"out": str(out), "broker": broker, "reconnect_for": 5})
    node = Client(broker, "node")
    try:
        assert rec.next() == {"opened": {"offset": len(line(0)), "line": 2}}
        assert rec.until("subscribed") == {"subscribed": True}
        idle = rec.until("flushed")                      # a heartbeat: time moves on with nothing new
        assert idle["upto"] <= time.monotonic()  # (the monotonic clock: the recording's `m`)
        before = time.monotonic()
        for n in range(3):
            node.publish("pico/rx/status", {"n": n})
        deadline = time.monotonic() + 15
        while True:                                      # (the broker may replay other tests' retained messages)
            event = rec.until("flushed")
            items = recording.read(out)[1:]
            ours = [i for i in items if i.topic == "pico/rx/status"]
            if len(ours) == 3 and event["flushed"] == len(items):
                break
            assert time.monotonic() < deadline, (event, items)
        assert event["upto"] >= before
        assert [json.loads(i.payload)["n"] for i in ours] == [0, 1, 2]
        assert all(i.mono <= event["upto"] for i in items)  # what arrived before "upto" is in the file
        assert rec.proc.stdin is not None
        rec.proc.stdin.close()                           # the parent asks it to stop
        assert rec.until("ended") == {"ended": "stopped", "count": len(items)}
        assert rec.end() == 0
    finally:
        node.close()
        if rec.proc.poll() is None:
            rec.proc.kill()


def test_receiver_fails_clearly_without_a_broker_or_a_writable_file(tmp_path):
    rec = Receiver({"out": str(tmp_path / "a.jsonl"), "broker": f"127.0.0.1:{free_port()}", "reconnect_for": 1})
    assert "opened" in rec.next()
    failed = rec.until("failed")
    assert failed["failed"].startswith("cannot reach the broker at 127.0.0.1:") and failed["count"] == 0
    assert rec.end() == 1
    (tmp_path / "dir").mkdir()
    rec = Receiver({"out": str(tmp_path / "dir"), "broker": "127.0.0.1:1", "reconnect_for": 1})
    failed = rec.next()
    assert failed["failed"].startswith(f"cannot write {tmp_path / 'dir'}") and failed["count"] == 0
    assert rec.end() == 1


def test_receiver_ignores_sigint_and_ends_on_sigterm(broker, tmp_path):
    rec = Receiver({"out": str(tmp_path / "rec.jsonl"), "broker": broker, "reconnect_for": 5, "duration": 60})
    try:
        rec.until("subscribed")
        rec.proc.send_signal(2)                          # a Ctrl-C meant for the whole group: the parent decides
        rec.until("flushed")
        rec.until("flushed")                             # still beating
        assert rec.proc.poll() is None
        rec.proc.terminate()
        assert rec.until("ended")["ended"] == "stopped"
        assert rec.end() == 0
    finally:
        if rec.proc.poll() is None:
            rec.proc.kill()


def test_receiver_ends_when_its_time_is_up(broker, tmp_path):
    rec = Receiver({"out": str(tmp_path / "rec.jsonl"), "broker": broker, "reconnect_for": 5, "duration": 0.3})
    rec.until("subscribed")
    assert rec.until("ended")["ended"] == "time is up"
    assert rec.end() == 0
