"""The monitor's own absences (issue 10, section 7): the recorder marks its own disconnects and reconnects
in the recording, and a gap that overlaps one is `unseen` ("not seen while the monitor was away"), not
`lost`; the broker's word that it dropped messages (Mosquitto's `$SYS/broker/publish/messages/dropped`)
is a `broker_dropped` note. Small labelled histories first, then the real processes: Mosquitto restarted
under a recorder, with a node that comes back before the recorder does.
"""

from __future__ import annotations

import json
import signal
import threading

import paho.mqtt.client as mqtt

from monitor import findings as F
from monitor import recording, report
from monitor.checker import check
from monitor.record import Record
from monitor.recording import Mark
from tests.helpers import wait_until
from tests.outage_harness import BrokerProcess, Gate

from .mon_helpers import monitor, run_monitor
from .test_monitor_checker import at, found, session


def away(records: list[Record], seq: int, t_from: float, t_to: float) -> list[Record]:
    """`records` with seq `seq` and the rest missing, and the recorder's marks of an absence in their place."""
    i = at(records, seq)
    return records[:i] + [Mark(t_from, "disconnected", reason="connection lost"), Mark(t_to, "reconnected")] + \
        records[i + 1:]


def test_a_gap_while_the_recorder_was_away_is_unseen_not_lost():
    records = session().out
    i = at(records, 6)
    gone = records[i]
    records = away(records, 6, gone.t - 0.005, gone.t + 0.005)
    result = check(records)
    assert found(result) == [(F.UNSEEN, False)]
    assert result.ok
    (unseen,) = result.all_findings()
    assert unseen.seqs == (6,) and "not seen while the monitor was away" in unseen.detail
    assert "LOST" not in report.text(result)


def test_a_gap_that_overlaps_no_absence_is_still_lost():
    records = session().out
    gone = records[at(records, 9)]
    del records[at(records, 9)]
    i = at(records, 5)                      # an absence well before the gap, over by then
    records[i:i] = [Mark(records[i].t - 0.002, "disconnected"), Mark(records[i].t - 0.001, "reconnected")]
    assert gone.t > records[i].t
    assert found(check(records)) == [(F.LOST, True)]


def test_a_reconnect_mark_with_no_disconnect_before_it_counts_from_the_last_line():
    records = session().out
    i = at(records, 6)
    del records[i]                          # the receiver was killed before it could say it left
    records.insert(i, Mark(records[i].t - 0.001, "reconnected"))
    assert found(check(records)) == [(F.UNSEEN, False)]


def test_marks_in_a_recording_file_round_trip_and_bad_ones_are_malformed(tmp_path):
    path = tmp_path / "r.jsonl"
    records = session().out
    gone = records[at(records, 6)].t
    records = away(records, 6, gone - 0.005, gone + 0.005)
    with open(path, "wb") as f:
        for item in records:
            f.write(recording.encode_mark(item) if isinstance(item, Mark) else recording.encode(item))
        f.write(b'{"t": %r, "monitor": "asleep"}\n' % records[-1].t)
    items = recording.read(path)
    assert [i for i in items if isinstance(i, Mark)] == [Mark(gone - 0.005, "disconnected", reason="connection lost"),
                                                         Mark(gone + 0.005, "reconnected")]
    assert isinstance(items[-1], recording.BadLine) and '"monitor"' in items[-1].reason
    result = check(recording.iter_items(path))
    assert sorted(found(result)) == [(F.MALFORMED, True), (F.UNSEEN, False)]


def sys_dropped(t: float, count: int, retain: bool = False) -> Record:
    return Record(t, "$SYS/broker/publish/messages/dropped", 0, retain, str(count).encode())


def test_the_broker_saying_it_dropped_messages_is_a_warning_note():
    records = session().out
    t = records[0].t
    records = [sys_dropped(t, 12, retain=True)] + records + [sys_dropped(records[-1].t, 12),
                                                             sys_dropped(records[-1].t + 1, 57)]
    result = check(records)
    assert found(result) == [(F.BROKER_DROPPED, False)]
    (note,) = result.findings
    assert note.count == 45 and note.info == {"before": 12, "after": 57}
    assert "the broker says it dropped 45 message(s)" in report.text(result)
    bad = check([sys_dropped(t, 1), Record(t, "$SYS/broker/publish/messages/dropped", 0, False, b"lots")])
    assert found(bad) == [(F.MALFORMED, True)]


# ---- the real processes ---------------------------------------------------------------------------

def _node(addr: str, name: str) -> mqtt.Client:
    host, port = addr.rsplit(":", 1)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv311)
    client.connect(host, int(port), 30)
    client.loop_start()
    return client


def _publish(client: mqtt.Client, sess: int, seqs: range) -> None:
    for seq in seqs:
        body = {"boot": "abcdef01", "sess": sess, "seq": seq, "ts": seq * 10, "online": True, "id": "pico-away",
                "fw": "0.1.0"}
        client.publish("pico/pico-away/status", json.dumps(body), qos=1).wait_for_publish(5)


def _lines(path) -> list[dict]:
    try:
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except (OSError, ValueError):
        return []


def _recorded(path, seq: int) -> bool:
    return any(json.loads(line.get("payload", "{}")).get("seq") == seq for line in _lines(path)
               if line.get("topic") == "pico/pico-away/status")


def _marked(path, event: str) -> bool:
    return any(line.get("monitor") == event for line in _lines(path))


def test_a_broker_restart_the_node_survives_before_the_recorder_is_unseen_not_lost(tmp_path):
    """Mosquitto restarted; the node is back at once, the recorder (through a gate the test holds shut) only
    later: the node's messages of that time are `unseen` in the recording, not `lost`."""
    broker = BrokerProcess("mosquitto", tmp_path)
    broker.start()
    gate = Gate("127.0.0.1", broker.port)
    out = tmp_path / "rec.jsonl"
    rec = monitor("record", "--broker", gate.addr, "--out", str(out), "--reconnect-for", "30")
    node = None
    try:
        rec.wait_line(lambda name, text: name == "err" and text.startswith("monitor: recording"), 20)
        node = _node(broker.addr, "pico-away")
        _publish(node, 1, range(1, 4))
        wait_until(lambda: _recorded(out, 3), 10, "seq 3 in the recording")
        gate.close_gate()                                    # the recorder will not get back in before we say
        node.loop_stop()
        broker.kill()
        wait_until(lambda: _marked(out, "disconnected"), 10, "the recorder's disconnected mark")
        broker.start()
        node = _node(broker.addr, "pico-away")               # the node is back first, in a new session
        _publish(node, 2, range(4, 12))                      # 8 messages the recorder cannot see
        assert not _marked(out, "reconnected")
        gate.open_gate()
        wait_until(lambda: _marked(out, "reconnected"), 15, "the recorder's reconnected mark")
        _publish(node, 2, range(12, 15))
        wait_until(lambda: _recorded(out, 14), 10, "seq 14 in the recording")
        rec.wait_line(lambda name, text: name == "out" and "unseen" in text, 10)   # live, once its time is up
    finally:
        if node is not None:
            node.loop_stop()
        rec.signal(signal.SIGTERM)
        code = rec.finish(20)
        gate.close()
        broker.stop()
    assert code == 0, rec.err
    assert not any("LOST" in line for line in rec.out), rec.out
    done = run_monitor("check", str(out), "--json")
    assert done.returncode == 0, done.stdout
    device = json.loads(done.stdout)["devices"]["pico-away"]
    kinds = [(f["kind"], f["count"], f["seqs"][:1]) for f in device["findings"]]
    assert kinds == [("reconnect", 1, []), ("unseen", 8, [4])]


def test_record_warns_when_mosquitto_says_it_dropped_messages(tmp_path):
    """A client that went away with a persistent session, and a queue of 5: the broker drops the rest, says so
    in $SYS (every second here), and the recorder warns."""
    broker = BrokerProcess("mosquitto", tmp_path, extra_conf="max_queued_messages 5\nsys_interval 1\n")
    broker.start()
    out = tmp_path / "rec.jsonl"
    rec = monitor("record", "--broker", broker.addr, "--out", str(out))
    try:
        rec.wait_line(lambda name, text: name == "err" and text.startswith("monitor: recording"), 20)
        host, port = broker.addr.rsplit(":", 1)
        subscribed = threading.Event()
        slow = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="slow-one", clean_session=False,
                           protocol=mqtt.MQTTv311)
        slow.on_subscribe = lambda *args: subscribed.set()
        slow.connect(host, int(port), 30)
        slow.loop_start()
        slow.subscribe("other/#", qos=1)
        assert subscribed.wait(5), "no SUBACK for the slow client"
        slow.disconnect()                                    # away, its session kept: the broker queues for it
        slow.loop_stop()
        pub = _node(broker.addr, "flood")
        for _ in range(40):
            pub.publish("other/x", b"x", qos=1).wait_for_publish(5)
        pub.loop_stop()
        rec.wait_line(lambda name, text: name == "out" and "broker dropped" in text, 15)
    finally:
        rec.signal(signal.SIGTERM)
        code = rec.finish(20)
        broker.stop()
    assert code == 0, rec.err
    line = next(text for text in rec.out if "broker dropped" in text)
    assert "the broker says it dropped 35 message(s)" in line and "$SYS/broker/publish/messages/dropped" in line
