"""The streaming checker on small hand-built streams, each labelled with exactly the findings it must
produce: one stream per finding kind, and clean streams that must produce no error (no false alarms).
Arrival times are part of each stream: they drive the reorder and command timeouts."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from monitor import findings as F
from monitor import model
from monitor.checker import Checker, Keeper, Limits, check
from monitor.record import Record
from monitor.recording import BadLine

from .mon_fakenode import FakeNode


def found(result: F.Result) -> list[tuple[str, bool]]:
    return [(f.kind, f.error) for f in result.all_findings()]


def edit(record: Record, **changes) -> Record:
    """`record` with some payload fields changed (None deletes the field)."""
    body = json.loads(record.payload)
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return replace(record, payload=json.dumps(body).encode())


def later(record: Record, seconds: float) -> Record:
    return replace(record, t=record.t + seconds)


def at(records: list[Record], seq: int) -> int:
    """Index of the live node message with `seq`."""
    return next(i for i, r in enumerate(records)
                if not r.topic.endswith("/cmd") and json.loads(r.payload).get("seq") == seq)


def session() -> FakeNode:
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
    node.reject("c-3", "led must be one of: on, off, auto", raw=b'{"id": "c-3", "led": "blue"}')
    node.snapshot()
    return node


# ---- clean streams: no error, at most information ------------------------------------------------

def clean_plain():
    return session().out


def clean_burst_reordered_within_the_timeout():
    records = session().out
    i = at(records, 6)
    burst = records[i:i + 4]                    # seq 6..9 arrive 9, 6, 8, 7, all within 0.1 s
    records[i:i + 4] = [burst[3], burst[0], burst[2], burst[1]]
    return records


def clean_reboot_in_the_middle():
    first = FakeNode(boot="aaaaaaaa")
    first.status()
    first.snapshot()
    first.button("a", True)
    first.will()
    second = FakeNode(boot="bbbbbbbb", t0=first.t + 1)
    second.status()
    second.snapshot()
    second.command("c-1", led="off")
    second.snapshot()
    return first.out + second.out


def clean_retained_snapshot_on_subscribe():
    node = FakeNode()
    node.status()
    node.snapshot()
    node.button("a", True)      # seq 3: published before the recorder subscribed
    node.snapshot()             # seq 4: the retained one
    replays = node.replays(t=node.t + 1)
    node.out.clear()
    node.t += 2
    node.button("a", False)
    node.command("c-1", led="on")
    node.snapshot()
    return replays + node.out


def clean_command_acked_ok_shows_in_the_next_snapshot():
    node = FakeNode()
    node.status()
    node.snapshot()
    node.command("c-1", led="on", mode="fast")
    node.snapshot()
    node.command("c-2", led="on")               # nothing to change: acked at the same ver
    node.command("c-3", get=True)
    return node.out


def clean_joined_midway_without_retained_state():
    node = session()
    return node.out[6:]


def clean_reconnect_with_resend():
    node = FakeNode()
    node.status()
    node.snapshot()
    (press,) = node.button("a", True)           # its PUBACK never came back...
    node.reconnect()                            # ...so after reconnecting (session 2)...
    node.resend(press)                          # ...the node sends it again, with its seq and session
    node.button("a", False)
    node.snapshot()
    return node.out


def clean_stale_last_will():
    node = FakeNode()
    node.status()
    node.snapshot()
    old = node.will()                           # session 1's Last Will...
    node.out.pop()
    node.reconnect()
    node.snapshot()
    node.out.append(later(old, 1))              # ...published by the broker after session 2 began
    return node.out


CLEAN = {
    "plain": (clean_plain, []),
    "burst reordered within the timeout": (clean_burst_reordered_within_the_timeout,  # 6, 8, 7 come after 9
                                           [(F.REORDERED, False)] * 3),
    "reboot in the middle": (clean_reboot_in_the_middle, [(F.REBOOT, False)]),
    "retained snapshot on subscribe": (clean_retained_snapshot_on_subscribe, []),
    "command acked ok shows in the next snapshot": (clean_command_acked_ok_shows_in_the_next_snapshot, []),
    "joined midway": (clean_joined_midway_without_retained_state, []),
    "reconnect with a resend": (clean_reconnect_with_resend, [(F.RECONNECT, False), (F.DUPLICATE, False)]),
    "stale last will": (clean_stale_last_will, [(F.RECONNECT, False)]),
}


@pytest.mark.parametrize("name", CLEAN)
def test_clean_streams_raise_no_false_alarm(name):
    build, expected = CLEAN[name]
    result = check(build())
    assert sorted(found(result)) == sorted(expected), [f.detail for f in result.all_findings()]
    assert result.ok


def test_clean_stream_summary():
    node = session()
    result = check(node.out)
    (dev,) = result.devices
    assert dev.counts == {"status": (1, 0), "state": (4, 0), "event": (7, 0), "ack": (3, 0), "cmd": (3, 0)}
    (boot,) = dev.boots
    assert (boot.seq_first, boot.seq_last, boot.live) == (1, 15, 15)
    c = dev.commands
    assert (c.sent, c.acked_ok, c.rejected, c.unacked, c.waiting) == (3, 2, 1, 0, 0)
    assert c.rtt_ms_max is not None and c.rtt_ms_max > 0
    assert dev.snapshots == dev.snapshots_checked == 4
    assert dev.online is True


def test_stale_will_keeps_the_device_online_but_a_current_one_takes_it_offline():
    assert check(clean_stale_last_will()).devices[0].online is True
    node = FakeNode()
    node.status()
    node.will()
    assert check(node.out).devices[0].online is False


# ---- one stream per finding kind -----------------------------------------------------------------

def test_lost_is_called_after_the_reorder_timeout_with_its_neighbours():
    records = session().out
    del records[at(records, 6)]
    result = check(records)
    (lost,) = result.all_findings()
    assert (lost.kind, lost.seqs, lost.count, lost.error) == (F.LOST, (6,), 1, True)
    assert [r.seq for r in lost.messages] == [5, 7]
    assert not result.ok


def test_a_lost_run_is_one_finding_and_explains_the_missing_versions():
    records = session().out
    i = at(records, 3)
    del records[i:i + 3]                       # seq 3, 4 (events), and the cmd: then seq 5
    result = check(records)
    assert [(f.kind, f.seqs, f.count) for f in result.all_findings() if f.kind != F.UNACKED] == [
        (F.LOST, (3, 4), 2)]


def test_duplicate_shows_both_copies():
    records = session().out
    records.insert(at(records, 9) + 1, later(records[at(records, 4)], 0.1))
    result = check(records)
    assert found(result) == [(F.DUPLICATE, True)]
    (dup,) = result.all_findings()
    assert dup.seqs == (4,) and [r.seq for r in dup.messages] == [4, 4]


def test_reordered_beyond_the_timeout_is_lost_then_late():
    records = session().out
    i = at(records, 6)
    late = records.pop(i)
    records.append(later(late, 5.0))           # 5 s later: the 2 s reorder timeout has passed
    result = check(records)
    assert found(result) == [(F.LOST, True), (F.REORDERED, True)]
    assert result.all_findings()[1].info["late"] is True


def test_reorder_timeout_is_configurable():
    records = session().out
    i = at(records, 6)
    records.append(later(records.pop(i), 5.0))
    assert found(check(records, reorder_timeout=10)) == [(F.REORDERED, False)]


def test_reboot():
    assert found(check(clean_reboot_in_the_middle())) == [(F.REBOOT, False)]


def test_reconnect_says_after_its_last_will():
    node = FakeNode()
    node.status()
    node.snapshot()
    node.will()
    node.reconnect()
    (f,) = check(node.out).all_findings()
    assert (f.kind, f.error) == (F.RECONNECT, False) and "after its Last Will" in f.detail


def test_dropped_on_device_is_apart_from_lost():
    node = FakeNode()
    node.status()
    node.snapshot()
    node.button("a", True)
    node.ver += 1                               # the release event is dropped from the outbox: no seq used
    node.buttons["a"] = False
    node.button("b", True)
    body = node.state_body()
    body["dropped"] = 1
    node._emit("state", body)
    result = check(node.out)
    (f,) = result.all_findings()
    assert (f.kind, f.error, f.count, f.seen) == (F.DROPPED_ON_DEVICE, True, 1, {"dropped": 1})


def test_skipped_versions_without_a_drop_counted_are_inconsistent():
    node = FakeNode()
    node.status()
    node.snapshot()
    node.ver += 2                               # two changes never published, and no drop counted
    node.snapshot()
    (f,) = check(node.out).all_findings()
    assert f.kind == F.INCONSISTENT and "never published" in f.detail


def test_inconsistent_snapshot_shows_expected_and_seen():
    node = FakeNode()
    node.status()
    node.snapshot()
    node.command("c-1", led="on")
    snap = node.snapshot()
    result = check(node.out[:-1] + [edit(snap, led="off", mode="fast")])
    (f,) = result.all_findings()
    assert f.kind == F.INCONSISTENT
    assert f.expected == {"ver": 1, "led": "on", "mode": "slow", "buttons": {"a": False, "b": False},
                          "presses": {"a": 0, "b": 0}}
    assert f.seen["led"] == "off" and f.seen["mode"] == "fast"
    assert [(r.topic, r.seq, r.ver) for r in f.messages] == [("state", 2, 0), ("state", 5, 1)]


def test_command_acked_ok_that_the_next_snapshot_does_not_reflect():
    node = FakeNode()
    node.status()
    node.snapshot()
    node.send({"id": "c-1", "led": "on"})
    node._emit("ack", {"id": "c-1", "ok": True, "ver": 0})      # acked ok, but nothing changed
    node.snapshot()
    result = check(node.out)
    (f,) = result.all_findings()
    assert f.kind == F.INCONSISTENT and f.info["command"] == "c-1"
    assert (f.expected, f.seen) == ({"led": "on"}, {"led": "auto"})
    assert f.info["rtt_ms"] == pytest.approx(10.0)


def test_unacked_command_after_the_command_timeout():
    node = FakeNode()
    node.status()
    node.snapshot()
    node.send({"id": "c-1", "led": "on"})
    node.t += 11
    node.snapshot()
    result = check(node.out)
    (f,) = result.all_findings()
    assert (f.kind, f.error, f.info["command"]) == (F.UNACKED, True, "c-1")
    assert result.devices[0].commands.unacked == 1


def test_a_retained_command_replayed_on_subscribe_is_history_not_a_command_waiting_for_an_ack():
    node = FakeNode()
    node.status()
    node.snapshot()
    node.send({"id": "old", "led": "on"})
    node.out[-1] = replace(node.out[-1], retain=True)   # the broker's replay: the node ignores it (protocol.md)
    node.t += 11
    node.snapshot()
    result = check(node.out)
    assert found(result) == []
    dev = result.devices[0]
    assert dev.counts["cmd"] == (0, 1) and dev.commands.sent == 0 and dev.commands.waiting == 0


def test_command_waiting_at_the_end_is_not_called_unacked():
    node = FakeNode()
    node.status()
    node.send({"id": "c-1", "led": "on"})
    result = check(node.out)
    assert found(result) == [] and result.devices[0].commands.waiting == 1


def test_ack_for_a_command_never_seen_is_inconsistent_once_the_monitor_has_listened_long_enough():
    node = FakeNode()
    node.status()
    node._emit("ack", {"id": "ghost", "ok": False, "error": "not JSON"})
    assert found(check(node.out)) == []          # right at the start: it may predate the monitor
    node.t += 30
    node._emit("ack", {"id": "ghost-2", "ok": False, "error": "not JSON"})
    (f,) = check(node.out).all_findings()
    assert f.kind == F.INCONSISTENT and f.info["command"] == "ghost-2"


def test_ack_overtaking_its_command_is_still_matched():
    node = FakeNode()
    node.status()
    node.snapshot()
    node.command("c-1", led="on")
    records = node.out
    cmd = next(i for i, r in enumerate(records) if r.topic.endswith("/cmd"))
    records.append(later(records.pop(cmd), 0.05))
    assert found(check(records)) == []


def test_unreadable_command_matches_the_null_ack():
    node = FakeNode()
    node.status()
    node.t += 30
    node.reject(None, "not JSON", raw=b"garbage")
    node.reject(None, "not a JSON object", raw=b"[1]")
    result = check(node.out)
    assert found(result) == []
    assert result.devices[0].commands.rejected == 2


def test_rejection_for_the_wrong_reason_is_inconsistent():
    node = FakeNode()
    node.status()
    node.reject("c-1", "nothing to do: give led, mode or get", raw=b'{"id": "c-1", "mode": 7}')
    (f,) = check(node.out).all_findings()
    assert f.kind == F.INCONSISTENT and f.expected == {"error": "mode must be one of: slow, fast"}


def test_malformed_payloads_are_reported_never_raised():
    node = FakeNode()
    node.status()
    node.snapshot()
    t = node.t + 1
    purple = edit(node.snapshot(), led="purple")
    bad = [
        Record(t, "pico/pico-test/event", 1, False, b"{not json"),
        Record(t, "pico/pico-test/event", 1, False, b"[1, 2]"),
        Record(t, "pico/pico-test/event", 1, False, b"\xff\xfe"),
        Record(t, "pico/pico-test/event", 1, False, b"{" + b" " * 20_000 + b"}"),
        purple,
        Record(t, "pico/pico-test/bogus", 1, False, b"{}"),
        Record(t, "elsewhere/x", 1, False, b"{}"),
    ]
    result = check(node.out[:2] + bad)
    kinds = [f.kind for f in result.all_findings()]
    assert kinds == [F.MALFORMED] * len(bad)
    reasons = " | ".join(f.detail for f in result.all_findings())
    for words in ("not JSON", "not a JSON object", "not UTF-8", "too large", "kind must be", "pico/<id>/<kind>",
                  '"led"'):
        assert words in reasons


def test_torn_last_line_is_said_not_an_error_and_a_bad_middle_line_is_malformed():
    node = FakeNode()
    node.status()
    result = check(node.out + [BadLine(line=2, reason="not JSON", torn=True)])
    assert found(result) == [] and result.torn and result.ok
    result = check([node.out[0], BadLine(line=2, reason="not JSON")])
    assert found(result) == [(F.MALFORMED, True)]


def test_sessions_going_backwards_in_seq_order_is_inconsistent():
    node = FakeNode()
    node.status()
    node.reconnect()
    node.snapshot()
    records = node.out[:2] + [edit(node.out[2], sess=1)]
    reconnect, f = check(records).all_findings()
    assert reconnect.kind == F.RECONNECT
    assert f.kind == F.INCONSISTENT and "sessions only rise" in f.detail


def test_devices_are_checked_separately():
    one, two = FakeNode(device="pico-one"), FakeNode(device="pico-two")
    for node in (one, two):
        node.status()
        node.snapshot()
        node.button("a", True)
    records = [r for pair in zip(one.out, two.out, strict=True) for r in pair]
    del records[3]  # pico-two seq 2
    result = check(records)
    assert [d.ok for d in result.devices] == [True, False]
    assert [f.seqs for f in result.devices[1].findings] == [(2,)]


# ---- streaming, time and bounds ------------------------------------------------------------------

def test_findings_come_out_when_certain_and_live_ticks_drive_the_timeout():
    records = session().out
    del records[at(records, 6)]
    out: list[F.Finding] = []
    checker = Checker(on_finding=out.append)
    for line, record in enumerate(records, start=1):
        checker.feed(record, line)
    assert out == []                             # the gap is still open: only 0.1 s have passed
    checker.advance(records[-1].t + 1.0)
    assert out == []
    checker.advance(records[-1].t + 2.5)
    assert [(f.kind, f.seqs) for f in out] == [(F.LOST, (6,))]


def test_a_boot_joined_midway_waits_for_stragglers_before_starting():
    node = session()
    records = node.out[6:]
    first, second = records[0], records[1]
    records[0], records[1] = second, first       # the lowest seq arrives second
    result = check(records)
    assert found(result) == [(F.REORDERED, False)]


def test_checker_feeds_any_model_in_seq_order():
    class Counting:
        def __init__(self):
            self.seen = []

        def init(self):
            return 0

        def step(self, state, message):
            self.seen.append(message.seq)
            return state + 1, ()

        parse_command = staticmethod(model.parse_command)

    records = clean_burst_reordered_within_the_timeout()
    counting = Counting()
    check(records, model=counting)
    seqs = [s for s in counting.seen if s is not None]
    assert seqs == list(range(1, 16))


def test_state_per_device_is_bounded():
    limits = Limits(pending=16, boots=2, lost_ranges=4, commands=8)
    node = FakeNode()
    node.status()
    records = list(node.out)
    for i in range(200):                         # every other message lost, many commands never acked
        node.snapshot()
        if i % 2:
            records.append(node.out[-1])
        records.append(node.send({"id": f"c-{i}", "get": True}))
    keeper = Keeper(10)
    checker = Checker(limits=limits, on_finding=keeper)
    for line, record in enumerate(records, start=1):
        checker.feed(record, line)
    dev = checker.devices["pico-test"]
    track = dev.current
    assert len(track.pending) <= 16 and len(track.lost) <= 4 and len(dev.commands) <= 8
    assert len(keeper.kept["pico-test"]) == 10 and dev.tally[F.LOST][0] > 10


def test_a_huge_gap_is_one_bounded_lost_finding():
    status = {"boot": "aaaaaaaa", "sess": 1, "ts": 1, "online": True}
    records = [Record(1.0, "pico/x/status", 1, False, json.dumps({**status, "seq": seq}).encode())
               for seq in (1, 10**12)]
    (lost,) = check(records).all_findings()
    assert lost.kind == F.LOST and lost.count == 10**12 - 2 and len(lost.seqs) == F.SEQS_LISTED


def test_hostile_input_is_malformed_not_a_crash():
    deep = Record(1.0, "pico/x/status", 1, False, b"[" * 100_000)
    result = check([deep, BadLine(line=2, reason="not JSON")])
    assert [f.kind for f in result.all_findings()] == [F.MALFORMED, F.MALFORMED]
