"""Property: a stream a well-behaved node could produce (generated from the independent fake node, with
the laptops' commands on the wire) raises no alarm; dropping, duplicating or swapping messages yields
exactly the injected findings and nothing else."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from monitor import findings as F
from monitor.checker import Limits
from monitor.checker import check as check_with_limits
from monitor.record import Record

from .mon_fakenode import FakeNode

BUTTON = st.tuples(st.just("button"), st.sampled_from("ab"), st.booleans())
COMMAND = st.tuples(st.just("cmd"), st.sampled_from([None, "on", "off", "auto"]),
                    st.sampled_from([None, "slow", "fast"]), st.booleans())
ACTION = st.one_of(BUTTON, COMMAND, st.just(("snapshot",)), st.just(("reject",)), st.just(("reboot",)))


@st.composite
def streams(draw) -> tuple[list[Record], bool]:
    """A recording of one device: optionally joined late (retained replays first), then live traffic."""
    boots = iter(f"{n:08x}" for n in range(1, 100))
    node = FakeNode(boot=next(boots))
    node.status()
    node.snapshot()
    late = draw(st.booleans())
    if late:  # the recorder subscribes after some traffic: it gets the retained status/state only
        for action in draw(st.lists(ACTION.filter(lambda a: a[0] != "reboot"), max_size=5)):
            apply(node, action, boots)
        start = node.replays(t=node.t + 0.5)
        node.out.clear()
    else:
        start = []
    for number, action in enumerate(draw(st.lists(ACTION, min_size=1, max_size=25))):
        node = apply(node, action, boots, number)
    records = start + getattr(node, "earlier", []) + node.out
    records.sort(key=lambda r: r.t)
    return records, late


def apply(node: FakeNode, action: tuple, boots, number: int = 0) -> FakeNode:
    kind = action[0]
    if kind == "button":
        node.button(action[1], action[2])
    elif kind == "cmd":
        _, led, mode, get = action
        if led is None and mode is None and not get:
            node.reject(f"c-{number}", "nothing to do: give led, mode or get", raw=b'{"id": "c-%d"}' % number)
        else:
            node.command(f"c-{number}", led=led, mode=mode, get=get)
    elif kind == "snapshot":
        node.snapshot()
    elif kind == "reject":
        node.reject(None, "not JSON", raw=b"garbage")
    elif kind == "reboot":
        node.will()
        fresh = FakeNode(boot=next(boots), t0=node.t + 1)
        fresh.earlier = getattr(node, "earlier", []) + node.out
        fresh.status()
        fresh.snapshot()
        return fresh
    return node


def envelope(record: Record) -> tuple[str, int] | None:
    """(boot, seq) of a live node message; None for commands, Last Wills and retained replays."""
    if record.topic.endswith("/cmd") or record.retain:
        return None
    body = json.loads(record.payload)
    return (body["boot"], body["seq"]) if "seq" in body else None


def interior(records: list[Record]) -> list[int]:
    """Indexes of live messages that are neither the first nor the last `seq` of their boot."""
    keyed = [(i, envelope(r)) for i, r in enumerate(records)]
    keyed = [(i, k) for i, k in keyed if k is not None]
    first, last = {}, {}
    for _, (boot, seq) in keyed:
        first[boot] = min(first.get(boot, seq), seq)
        last[boot] = max(last.get(boot, seq), seq)
    return [i for i, (boot, seq) in keyed if first[boot] < seq < last[boot]]


def check(records: list[Record], **kw) -> F.Result:
    # Streams here may reboot every few messages; the default table keeps 4 boots (enough for a real
    # node), and what a retired boot sends late is judged by `test_state_per_device_is_bounded`.
    return check_with_limits(records, limits=Limits(boots=64), **kw)


def errors(result: F.Result) -> list[F.Finding]:
    return [f for f in result.all_findings() if f.error]


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(streams())
def test_a_valid_stream_is_clean(stream):
    records, _ = stream
    result = check(records)
    assert errors(result) == []
    assert {f.kind for f in result.all_findings()} <= {F.REBOOT}


@SETTINGS
@given(streams(), st.data())
def test_dropping_messages_is_exactly_those_lost_seqs(stream, data):
    records, _ = stream
    candidates = interior(records)
    assume(candidates)
    chosen = sorted(data.draw(st.sets(st.sampled_from(candidates), min_size=1, max_size=4)))
    dropped = {envelope(records[i]) for i in chosen}
    kept = [r for i, r in enumerate(records) if i not in chosen]
    found = errors(check(kept))
    assert {f.kind for f in found} == {F.LOST}
    lost = {(f.boot, seq) for f in found for seq in f.seqs}
    assert lost == dropped and sum(f.count for f in found) == len(dropped)


@SETTINGS
@given(streams(), st.data())
def test_duplicating_one_message_is_exactly_that_duplicate(stream, data):
    records, _ = stream
    live = [i for i, r in enumerate(records) if envelope(r) is not None]
    assume(live)
    index = data.draw(st.sampled_from(live))
    where = data.draw(st.integers(min_value=index + 1, max_value=len(records)))
    boot, seq = envelope(records[index])
    found = errors(check(records[:where] + [records[index]] + records[where:]))
    assert [(f.kind, f.boot, f.seqs) for f in found] == [(F.DUPLICATE, boot, (seq,))]


@SETTINGS
@given(streams(), st.data())
def test_swapping_two_neighbours_is_exactly_one_recovered_reorder(stream, data):
    records, _ = stream
    pairs = [i for i in range(len(records) - 1)
             if envelope(records[i]) and envelope(records[i + 1])
             and envelope(records[i])[0] == envelope(records[i + 1])[0]]
    assume(pairs)
    i = data.draw(st.sampled_from(pairs))
    swapped = records[:i] + [records[i + 1], records[i]] + records[i + 2:]
    boot, seq = envelope(records[i])
    result = check(swapped)
    assert errors(result) == []
    reordered = [(f.boot, f.seqs) for f in result.all_findings() if f.kind == F.REORDERED]
    assert reordered == [(boot, (seq,))]


@SETTINGS
@given(streams(), st.data())
def test_a_message_held_back_past_the_timeout_is_lost_then_late(stream, data):
    records, _ = stream
    candidates = interior(records)
    assume(candidates)
    index = data.draw(st.sampled_from(candidates))
    boot, seq = envelope(records[index])
    late = records[index]
    moved = records[:index] + records[index + 1:] + [Record(records[-1].t + 5, late.topic, late.qos, False,
                                                            late.payload)]
    # The late message may be an ack, now far behind its command: a command timeout longer than any
    # stream keeps `unacked` (right, but another verdict) out of what this test is about.
    found = errors(check(moved, command_timeout=3600))
    assert [(f.kind, f.boot, f.seqs) for f in found] == [(F.LOST, boot, (seq,)), (F.REORDERED, boot, (seq,))]
