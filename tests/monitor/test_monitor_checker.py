"""The checker on small hand-built recordings, each labelled with the findings it must produce."""

from __future__ import annotations

import json
from dataclasses import replace

from monitor import findings as F
from monitor.checker import check
from monitor.record import Record
from monitor.recording import BadLine

from .mon_fakenode import FakeNode


def kinds(result: F.Result) -> list[str]:
    return [f.kind for f in result.all_findings()]


def edit(record: Record, **changes) -> Record:
    """`record` with some payload fields changed (None deletes the field)."""
    body = json.loads(record.payload)
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return replace(record, payload=json.dumps(body).encode())


def clean_session() -> FakeNode:
    node = FakeNode()
    node.status()
    node.snapshot()
    node.button("a", True)
    node.button("a", False)
    node.command("c-1", led="on")
    node.snapshot()
    node.button("b", True)
    node.button("b", False)
    node.command("c-2", mode="slow", get=True)
    node.reject("c-3", "led must be one of: on, off, auto")
    node.snapshot()
    return node


def test_clean_stream_has_no_findings():
    node = clean_session()
    result = check(node.out)
    assert kinds(result) == []
    assert result.ok
    (dev,) = result.devices
    assert dev.device == "pico-test"
    assert dev.counts == {"status": (1, 0), "state": (4, 0), "event": (7, 0), "ack": (3, 0)}
    (boot,) = dev.boots
    assert (boot.boot, boot.seq_first, boot.seq_last, boot.live) == ("9f1c2a7b", 1, len(node.out), len(node.out))


def test_lost_seq_is_reported_with_its_neighbours():
    records = clean_session().out
    del records[5]  # seq 6
    result = check(records)
    lost = [f for f in result.all_findings() if f.kind == F.LOST]
    assert [(f.seqs, f.count) for f in lost] == [((6,), 1)]
    assert [r.seq for r in lost[0].messages] == [5, 7]
    assert not result.ok


def test_lost_run_is_one_finding():
    records = clean_session().out
    del records[4:7]  # seq 5, 6, 7
    lost = [f for f in check(records).all_findings() if f.kind == F.LOST]
    assert [(f.seqs, f.count) for f in lost] == [((5, 6, 7), 3)]


def test_duplicate_is_reported_once_and_not_as_out_of_order():
    records = clean_session().out
    records.insert(9, records[3])  # seq 4 again, later
    result = check(records)
    assert kinds(result) == [F.DUPLICATE]
    (dup,) = result.all_findings()
    assert dup.seqs == (4,)
    assert [r.line for r in dup.messages] == [4, 10]


def test_out_of_order_is_the_late_message_only():
    records = clean_session().out
    records[6], records[7] = records[7], records[6]  # seq 8 arrives before seq 7
    result = check(records)
    assert kinds(result) == [F.OUT_OF_ORDER]
    (late,) = result.all_findings()
    assert late.seqs == (7,)
    assert [r.seq for r in late.messages] == [7, 8]


def test_reboot_restarts_seq_without_loss():
    first = FakeNode(boot="aaaaaaaa")
    first.status()
    first.snapshot()
    first.button("a", True)
    second = FakeNode(boot="bbbbbbbb", t0=first.t + 1)
    second.status()
    second.snapshot()
    result = check(first.out + second.out)
    assert kinds(result) == [F.REBOOT]
    assert result.ok  # a reboot is information
    (dev,) = result.devices
    assert [b.boot for b in dev.boots] == ["aaaaaaaa", "bbbbbbbb"]
    assert result.all_findings()[0].boot == "bbbbbbbb"


def test_last_will_has_no_seq_and_is_fine():
    node = FakeNode()
    node.status()
    node.snapshot()
    node.will()
    result = check(node.out)
    assert kinds(result) == []
    assert result.devices[0].counts["status"] == (2, 0)


def test_retained_snapshot_on_subscribe_is_history_not_out_of_order():
    node = FakeNode()
    node.status()
    node.snapshot()            # seq 2, ver 0
    node.button("a", True)     # seq 3, ver 1: published before we subscribed
    node.snapshot()            # seq 4, ver 1: the retained one
    replays = node.replays(t=node.t + 1)   # status seq 1, state seq 4
    node.out.clear()
    node.t += 2
    node.button("a", False)    # seq 5, ver 2
    node.snapshot()            # seq 6, ver 2
    result = check(replays + node.out)
    assert kinds(result) == []
    (dev,) = result.devices
    assert dev.counts["state"] == (1, 1) and dev.counts["status"] == (0, 1)
    (boot,) = dev.boots
    assert (boot.seq_first, boot.seq_last, boot.retained) == (5, 6, 2)


def test_retained_snapshot_is_the_baseline():
    node = FakeNode()
    node.status()
    node.snapshot()
    node.button("a", True)
    node.snapshot()            # seq 4 ver 1, a held
    replays = node.replays(t=node.t + 1)
    node.out.clear()
    node.button("a", False)    # seq 5 ver 2 (presses a stays 1)
    live_state = node.snapshot()
    # the live snapshot lies about presses: only the retained baseline lets the model know a=1
    bad = edit(live_state, presses={"a": 0, "b": 0})
    result = check(replays + node.out[:-1] + [bad])
    assert kinds(result) == [F.INCONSISTENT]
    (finding,) = result.all_findings()
    assert finding.expected["presses"] == {"a": 1, "b": 0}
    assert finding.seen["presses"] == {"a": 0, "b": 0}


def test_retained_replay_of_a_message_seen_live_is_not_a_duplicate():
    node = FakeNode()
    node.status()
    node.snapshot()
    node.button("a", True)
    replays = node.replays(t=node.t + 1)   # e.g. after the recorder reconnected
    node.button("a", False)
    assert kinds(check(node.out[:3] + replays + node.out[3:])) == []


def test_inconsistent_snapshot_shows_expected_and_seen():
    node = FakeNode()
    node.status()
    node.snapshot()
    node.command("c-1", led="on")
    snap = node.snapshot()
    records = node.out[:-1] + [edit(snap, led="off", mode="fast")]
    result = check(records)
    assert kinds(result) == [F.INCONSISTENT]
    (f,) = result.all_findings()
    assert f.expected == {"ver": 1, "led": "on", "mode": "slow", "buttons": {"a": False, "b": False},
                          "presses": {"a": 0, "b": 0}}
    assert f.seen["led"] == "off" and f.seen["mode"] == "fast"
    assert [(r.seq, r.ver) for r in f.messages] == [(5, 1)]
    assert not result.ok


def test_consistent_snapshot_after_button_b_press():
    node = FakeNode(mode="slow")
    node.status()
    node.snapshot()
    events = node.button("b", True)
    assert [json.loads(r.payload)["kind"] for r in events] == ["button", "mode"]
    snap = node.snapshot()
    assert json.loads(snap.payload)["mode"] == "fast"
    assert kinds(check(node.out)) == []


def test_b_press_without_its_mode_event_is_lost_then_unknown_not_inconsistent():
    node = FakeNode()
    node.status()
    node.snapshot()
    node.button("b", True)   # seq 3 button, seq 4 mode
    node.snapshot()
    records = node.out[:3] + node.out[4:]
    result = check(records)
    assert sorted(kinds(result)) == [F.LOST, F.UNKNOWN]


def test_ack_ok_with_matching_ver():
    node = FakeNode()
    node.status()
    node.snapshot()
    node.command("c-1", led="on", mode="fast")   # two events then the ack (ver 2)
    node.command("c-2", led="on")                # nothing changes: ack ver 2
    assert kinds(check(node.out)) == []


def test_ack_before_its_events_is_inconsistent():
    node = FakeNode()
    node.status()
    node.snapshot()
    node.command("c-1", led="on")
    ack = node.out[-1]
    records = node.out[:-1] + [edit(ack, ver=0)]
    result = check(records)
    assert kinds(result) == [F.INCONSISTENT]
    assert result.all_findings()[0].expected == {"ver": 1}


def test_button_press_must_count_by_one():
    node = FakeNode()
    node.status()
    node.snapshot()
    (press,) = node.button("a", True)
    result = check(node.out[:-1] + [edit(press, presses=2)])
    assert kinds(result) == [F.INCONSISTENT]
    assert result.all_findings()[0].expected == {"presses": {"a": 1}}


def test_malformed_payloads_are_reported_never_raised():
    node = FakeNode()
    node.status()
    node.snapshot()
    good = list(node.out)
    t = node.t + 1
    purple = edit(node.snapshot(), led="purple")   # seq 3: a valid envelope, a bad body
    no_seq = edit(node.snapshot(), seq=None)       # seq 4 (the last: its absence is no gap)
    bad = [
        Record(t, "pico/pico-test/event", 1, False, b"{not json"),
        Record(t, "pico/pico-test/event", 1, False, b"[1, 2]"),
        Record(t, "pico/pico-test/event", 1, False, b"\xff\xfe"),
        purple,
        Record(t, "pico/pico-test/bogus", 1, False, b"{}"),
        Record(t, "elsewhere/x", 1, False, b"{}"),
        no_seq,
    ]
    result = check(good + bad)
    found = result.all_findings()
    assert [f.kind for f in found] == [F.MALFORMED] * len(bad)
    assert not result.ok
    reasons = " | ".join(f.detail for f in found)
    for words in ("not JSON", "not a JSON object", "not UTF-8", '"seq"', "kind must be", "pico/<id>/<kind>", '"led"'):
        assert words in reasons
    assert result.findings[0].device is None  # "elsewhere/x" belongs to no device


def test_commands_are_counted_not_checked():
    node = FakeNode()
    node.status()
    cmds = [Record(node.t, "pico/pico-test/cmd", 1, False, b'{"id": "c-1", "led": "on"}'),
            Record(node.t, "pico/pico-test/cmd", 1, False, b"garbage")]
    result = check(node.out + cmds)
    assert kinds(result) == []
    assert result.devices[0].counts["cmd"] == (2, 0)


def test_torn_last_line_is_noted_not_an_error():
    node = FakeNode()
    node.status()
    result = check(node.out + [BadLine(line=2, reason="not JSON", torn=True)])
    assert kinds(result) == [F.TORN]
    assert result.ok and result.torn


def test_bad_line_in_the_middle_is_malformed():
    node = FakeNode()
    node.status()
    node.snapshot()
    items = [node.out[0], BadLine(line=2, reason="not JSON"), node.out[1]]
    result = check(items)
    assert kinds(result) == [F.MALFORMED]
    assert result.findings[0].messages[0].line == 2


def test_devices_are_checked_separately():
    one, two = FakeNode(device="pico-one"), FakeNode(device="pico-two")
    for node in (one, two):
        node.status()
        node.snapshot()
        node.button("a", True)
    records = [r for pair in zip(one.out, two.out, strict=True) for r in pair]
    del records[3]  # pico-two seq 2
    result = check(records)
    assert [d.device for d in result.devices] == ["pico-one", "pico-two"]
    assert result.devices[0].ok and not result.devices[1].ok
    assert [f.seqs for f in result.devices[1].findings] == [(2,)]


class CountingModel:
    """A stand-in model: the checker must work with any init()/step()."""

    def __init__(self):
        self.seen = []

    def init(self):
        return 0

    def step(self, state, message):
        self.seen.append(message.seq)
        return state + 1, ()


def test_checker_feeds_any_model_in_seq_order():
    node = clean_session()
    records = list(node.out)
    records[2], records[3] = records[3], records[2]
    model = CountingModel()
    check(records, model=model)
    assert model.seen == sorted(model.seen) == list(range(1, len(records) + 1))


def test_hostile_input_is_malformed_not_a_crash():
    deep = Record(1.0, "pico/x/status", 1, False, b"[" * 100_000)
    result = check([deep, BadLine(line=2, reason="not JSON")])
    assert kinds(result) == [F.MALFORMED, F.MALFORMED]


def test_a_huge_gap_is_one_bounded_lost_finding():
    status = {"boot": "aaaaaaaa", "sess": 1, "ts": 1, "online": True}
    records = [Record(1.0, "pico/x/status", 1, False, json.dumps({**status, "seq": seq}).encode())
               for seq in (1, 10**12)]
    (lost,) = check(records).all_findings()
    assert lost.kind == F.LOST and lost.count == 10**12 - 2 and len(lost.seqs) == F.SEQS_LISTED
