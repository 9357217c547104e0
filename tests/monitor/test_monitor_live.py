"""`record` and `send` against a real amqtt broker (one per session; a dedicated one when a test stops it)."""

from __future__ import annotations

import json
import signal
import time

import pytest

from monitor import recording, send
from monitor.checker import check
from monitor.errors import AckTimeout, BrokerError
from tests.helpers import wait_until

from .mon_helpers import AmqttBroker, Client, free_port, monitor, run_monitor

SNAPSHOT = {"boot": "aaaaaaaa", "sess": 1, "seq": 2, "ts": 50, "ver": 0, "led": "auto", "lit": 0, "mode": "slow",
            "buttons": {"a": False, "b": False}, "presses": {"a": 0, "b": 0}, "temp_c": None, "dropped": 0,
            "cmd_dropped": 0}
EVENT = {"boot": "aaaaaaaa", "sess": 1, "seq": 3, "ts": 60, "ver": 1, "kind": "led", "led": "on", "by": "cmd",
         "cmd": "c-1"}


def announced(name: str, text: str) -> bool:
    return name == "err" and text.startswith("monitor: recording ")


def printed(words: str):
    return lambda name, text: name == "out" and words in text


@pytest.fixture
def publisher(broker):
    client = Client(broker, "node")
    yield client
    client.close()


def test_record_writes_every_message_and_ends_after_for(broker, publisher, tmp_path):
    out = tmp_path / "rec.jsonl"
    publisher.publish("pico/rec1/state", SNAPSHOT, retain=True)
    rec = monitor("record", "--broker", broker, "--out", str(out), "--for", "2")
    rec.wait_line(announced, 15)
    started = time.monotonic()
    publisher.publish("pico/rec1/event", EVENT)
    publisher.publish("pico/rec1/event", b"\xff\xfe not utf-8")
    rec.wait_line(printed("MALFORMED: payload is not UTF-8"), 10)
    assert rec.finish(15) == 0
    assert time.monotonic() - started < 10
    items = [r for r in recording.read(out) if r.topic.startswith("pico/rec1/")]
    assert [(r.topic, r.retain, r.qos) for r in items] == [
        ("pico/rec1/state", True, 1), ("pico/rec1/event", False, 1), ("pico/rec1/event", False, 1)]
    assert json.loads(items[0].payload) == SNAPSHOT and json.loads(items[1].payload) == EVENT
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert set(lines[0]) == {"t", "m", "topic", "qos", "retain", "payload"}
    assert "payload_b64" in lines[-1] and "payload" not in lines[-1]
    assert any("rec1 state retained seq=2 ver=0 led=auto lit=0 mode=slow a=0 b=0" in line for line in rec.out)
    assert any("rec1 event seq=3 ver=1 led on by=cmd cmd=c-1" in line for line in rec.out)
    assert rec.err[-1] == f"monitor: recorded {len(lines)} messages to {out} (time is up)"
    # the recording checks: the retained snapshot is the baseline, the event follows it
    device = next(d for d in check(recording.read(out)).devices if d.device == "rec1")
    assert [f.kind for f in device.findings] == ["malformed"]


def test_record_keeps_only_what_it_subscribed_to(broker, publisher, tmp_path):
    """amqtt pushes retained messages of other clients' filters at connect: they are not recorded."""
    other = Client(broker, "other")
    try:
        publisher.publish("stray/thing", b"{}", retain=True)
        other.subscribe("stray/#")
        out = tmp_path / "rec.jsonl"
        rec = monitor("record", "--broker", broker, "--out", str(out), "--quiet")
        rec.wait_line(announced, 15)
        publisher.publish("pico/rec3/event", EVENT)
        publisher.publish("stray/thing", b"{}")  # live, and nobody asked for it
        wait_until(lambda: any(r.topic == "pico/rec3/event" for r in recording.read(out)), 10, "the event recorded")
        rec.signal(signal.SIGTERM)
        assert rec.finish(10) == 0
        assert all(r.topic.startswith("pico/") for r in recording.read(out))
    finally:
        other.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_record_stops_cleanly_on_a_signal(broker, publisher, tmp_path, sig):
    out = tmp_path / "rec.jsonl"
    rec = monitor("record", "--broker", broker, "--out", str(out), "--quiet")
    rec.wait_line(announced, 15)
    publisher.publish("pico/rec2/event", EVENT)
    wait_until(lambda: any(r.topic == "pico/rec2/event" for r in recording.read(out)), 10, "the event recorded")
    rec.signal(sig)
    assert rec.finish(10) == 0
    assert rec.out == []  # --quiet
    assert rec.err[-1].startswith("monitor: recorded ") and rec.err[-1].endswith(f"to {out} (stopped)")
    assert "Traceback" not in "\n".join(rec.err)


def test_record_default_path_is_under_recordings(broker, tmp_path):
    done = run_monitor("record", "--broker", broker, "--for", "0.3", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (made,) = (tmp_path / "recordings").iterdir()
    assert made.suffix == ".jsonl"
    assert f"to recordings/{made.name}" in done.stderr


def test_record_unreachable_broker_exits_1_and_leaves_no_file(tmp_path):
    out = tmp_path / "rec.jsonl"
    started = time.monotonic()
    done = run_monitor("record", "--broker", f"127.0.0.1:{free_port()}", "--out", str(out))
    assert done.returncode == 1
    assert "monitor: cannot reach the broker at 127.0.0.1:" in done.stderr
    assert time.monotonic() - started < 10
    assert not out.exists()


def test_record_gives_up_when_the_broker_stays_away(tmp_path):
    own = AmqttBroker()
    try:
        rec = monitor("record", "--broker", own.address, "--out", str(tmp_path / "r.jsonl"), "--reconnect-for", "1")
        rec.wait_line(announced, 15)
    finally:
        own.stop()
    rec.wait_line(lambda name, text: "reconnecting for up to 1 s" in text, 10)
    assert rec.finish(15) == 1
    assert any("not back within 1 s" in line for line in rec.err)
    assert rec.err[-1].startswith("monitor: recorded 0 messages")


# ---- send ----------------------------------------------------------------------------------------------

@pytest.fixture
def responder(broker):
    """A node stand-in for pico/resp/*: acks every command like docs/protocol.md says, after an
    unrelated ack (someone else's command) to prove the monitor matches by id."""
    node = Client(broker, "responder")
    seq = iter(range(1, 10_000))

    def ack(client: Client, cid, ok: bool, **fields) -> None:
        body = {"boot": "bbbbbbbb", "sess": 1, "seq": next(seq), "ts": 1, "id": cid, "ok": ok, **fields}
        client.client.publish("pico/resp/ack", json.dumps(body), qos=1)  # no waiting on paho's own thread

    def answer(client: Client, message) -> None:
        ack(client, "someone-else", True, ver=0)
        try:
            body = json.loads(message.payload)
        except ValueError:
            return ack(client, None, False, error="not JSON")
        if not isinstance(body, dict):
            return ack(client, None, False, error="not a JSON object")
        cid = body.get("id")
        if not isinstance(cid, str) or not 1 <= len(cid) <= 64:
            return ack(client, None, False, error="id must be a string of 1 to 64 characters")
        if body.get("led", "on") not in ("on", "off", "auto"):
            return ack(client, cid, False, error="led must be one of: on, off, auto")
        return ack(client, cid, True, ver=7)

    node.on_message = answer
    node.subscribe("pico/resp/cmd")
    yield node
    node.close()


def test_send_ok_prints_the_ack_and_exits_0(broker, responder):
    done = run_monitor("send", "resp", "--led", "on", "--mode", "fast", "--broker", broker)
    assert done.returncode == 0, done.stderr
    ack = json.loads(done.stdout)
    assert ack["ok"] is True and ack["ver"] == 7 and ack["id"].startswith("m-")
    (cmd,) = [json.loads(m.payload) for m in responder.received if m.topic == "pico/resp/cmd"]
    assert cmd == {"id": ack["id"], "led": "on", "mode": "fast"}
    assert "monitor: ack from resp in " in done.stderr and " ms" in done.stderr


def test_send_rejected_exits_1_with_the_error(broker, responder):
    done = run_monitor("send", "resp", "--raw", '{"id": "x-1", "led": "blue"}', "--broker", broker)
    assert done.returncode == 1
    assert json.loads(done.stdout)["id"] == "x-1"
    assert "monitor: rejected: led must be one of: on, off, auto" in done.stderr


def test_send_raw_without_a_readable_id_takes_the_null_ack(broker, responder):
    done = run_monitor("send", "resp", "--raw", "not json at all", "--broker", broker)
    assert done.returncode == 1
    ack = json.loads(done.stdout)
    assert (ack["id"], ack["ok"], ack["error"]) == (None, False, "not JSON")
    assert "monitor: rejected: not JSON" in done.stderr


def test_send_without_an_answer_exits_2(broker):
    started = time.monotonic()
    done = run_monitor("send", "nobody-home", "--get", "--timeout", "0.5", "--broker", broker)
    assert done.returncode == 2
    assert "monitor: no ack (id 'm-" in done.stderr and "within 0.5 s" in done.stderr
    assert time.monotonic() - started < 10


def test_send_unreachable_broker_exits_2():
    done = run_monitor("send", "resp", "--get", "--broker", f"127.0.0.1:{free_port()}")
    assert done.returncode == 2
    assert "monitor: cannot reach the broker" in done.stderr


def test_python_api_send(broker, responder):
    ack = send.send(broker, "resp", {"get": True}, timeout=5)
    assert ack.ok and ack.ver == 7 and ack.error is None and ack.id.startswith("m-")
    assert 0 < ack.rtt_ms < 5000
    rejected = send.send(broker, "resp", raw=b'{"id": "x-2", "led": 3}', timeout=5)
    assert (rejected.ok, rejected.id, rejected.error) == (False, "x-2", "led must be one of: on, off, auto")
    with pytest.raises(AckTimeout):
        send.send(broker, "nobody-home", {"get": True}, timeout=0.3)
    with pytest.raises(BrokerError):
        send.send(f"127.0.0.1:{free_port()}", "resp", {"get": True}, timeout=1)


def test_echoed_id_follows_the_protocol_table():
    assert send.echoed_id(b'{"id": "c-1", "led": "x"}') == "c-1"
    assert send.echoed_id(b'{"id": "", "led": "on"}') is None
    assert send.echoed_id(b'{"id": 5}') is None
    assert send.echoed_id(b"[1]") is None
    assert send.echoed_id(b"nope") is None
    assert send.echoed_id(b'{"id": "c-1", "pad": "' + b"x" * 300 + b'"}') is None  # too large first
