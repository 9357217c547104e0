"""A frozen node (`silent`): a node whose status promised a heartbeat (`hb`) and then said nothing for longer
than `max(2 * hb, hb + 2)` seconds. Hand-built histories: a snapshot every 5 s with `hb` 5 (so at most
10 s of silence), then a 12 s gap; the same gap excused by the recorder's absence, by the node's goodbye,
by a status without `hb`; a silence still going on when the recording ends.
"""

from __future__ import annotations

from monitor import findings as F
from monitor.checker import check
from monitor.checker.silence import late
from monitor.recording import Mark

from .mon_fakenode import FakeNode
from .test_monitor_checker import found

HB = 5


def history(gap: float, hb: int | None = HB, offline_before_gap: bool = False) -> tuple[FakeNode, float, float]:
    """Online (with `hb`), three snapshots `HB` s apart, then `gap` s of silence, then a snapshot.
    Returns the node and the silence's start and end (arrival times)."""
    node = FakeNode()
    extra = {} if hb is None else {"hb": hb}
    node._emit("status", {"online": True, "id": node.device, "fw": "0.1.0", **extra})
    for _ in range(3):
        node.snapshot()
        node.t += HB - 0.01
    node.snapshot()
    if offline_before_gap:
        node._emit("status", {"online": False})
    start = node.t
    node.t += gap - 0.01
    end = node.snapshot().t
    node.snapshot()
    return node, start, end


def silent(result: F.Result) -> list[F.Finding]:
    return [f for f in result.all_findings() if f.kind == F.SILENT]


def test_late_is_two_periods_and_at_least_two_seconds_to_spare():
    assert (late(1), late(2), late(5)) == (3, 4, 10)


def test_a_silence_longer_than_the_heartbeat_allows_is_one_silent_finding_with_the_gap():
    node, start, end = history(12.0)
    result = check(node.out)
    assert found(result) == [(F.SILENT, True)] and not result.ok
    (f,) = silent(result)
    assert f.device == node.device and f.boot == node.boot
    assert [r.t for r in f.messages] == [start, end]            # the last message before, the first after
    assert f.info["silent_s"] == round(end - start, 3) and f.info["late_s"] == 10 and f.info["ended"]
    assert "nothing heard for 12.0 s" in f.detail and "at most 10 s allowed" in f.detail
    assert "a task that never awaits" in f.detail


def test_a_heartbeat_on_time_is_not_silent():
    node, _, _ = history(9.0)                                   # under 10 s: late, but within the promise
    assert found(check(node.out)) == []


def test_a_silence_while_the_recorder_was_away_is_excused():
    node, start, end = history(12.0)
    records = node.out
    i = next(i for i, r in enumerate(records) if r.t == end)
    records[i:i] = [Mark(start + 1, "disconnected", reason="connection lost"), Mark(start + 2, "reconnected")]
    assert found(check(records)) == []


def test_a_node_that_said_offline_is_not_silent():
    node, _, _ = history(12.0, offline_before_gap=True)
    assert F.SILENT not in [kind for kind, _ in found(check(node.out))]


def test_a_status_without_hb_promises_nothing():
    node, _, _ = history(12.0, hb=None)
    assert found(check(node.out)) == []


def test_a_silence_ended_by_the_goodbye_or_the_last_will_is_not_silent():
    for goodbye in ("status", "will"):
        node = FakeNode()
        node._emit("status", {"online": True, "id": node.device, "fw": "0.1.0", "hb": HB})
        node.snapshot()
        node.t += 30
        node._emit("status", {"online": False}) if goodbye == "status" else node.will()
        node.t += 30
        assert F.SILENT not in [kind for kind, _ in found(check(node.out))], goodbye


def test_a_silence_still_going_on_when_the_recording_ends_is_said_so():
    node = FakeNode()
    node._emit("status", {"online": True, "id": node.device, "fw": "0.1.0", "hb": HB})
    last = node.snapshot()
    records = [*node.out, Mark(last.t + 20, "disconnected", reason="recorder stopped")]
    # The recorder left at the end: an absence, excused. Without the mark, the end is the last line's time.
    assert found(check(records)) == []
    other = FakeNode(device="pico-other", t0=last.t + 19)
    other.snapshot()
    (f,) = silent(check([*node.out, *other.out]))
    assert f.device == node.device and not f.info["ended"] and "had not ended when the recording did" in f.detail
    assert f.info["silent_s"] > 10
