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


# --- the firmware's own rules against the model ----------------------------------------------------
# Generated inputs (button edges, commands good and bad, snapshots) drive node/lib/rules.py through the
# vectors' driver (tests/node/test_vectors.py, as the node calls it); the messages it makes, a boot first and
# a heartbeat snapshot last, are what a node publishes. The model finds nothing in them, and each mutation
# below, a node's mistake written as a change of that stream, is caught.

from dataclasses import replace as _replace  # noqa: E402

import pytest  # noqa: E402

from monitor import model  # noqa: E402

from .test_model_rules import Msg, full_snapshot, node_driver  # noqa: E402
from .test_model_rules import run as run_model  # noqa: E402

BAD_COMMANDS = ['{"id": "b", "led": "purple"}', '{"id": "b", "get": false}', '{"id": "b"}', "[1]", "nope",
                '{"led": "on"}', '{"id": "b", "mode": "fast", "x": 1}']
INPUT = st.one_of(
    st.builds(lambda b, p: {"button": b, "pressed": p}, st.sampled_from("ab"), st.booleans()),
    st.builds(lambda led, mode, get: {"fields": {k: v for k, v in (("led", led), ("mode", mode), ("get", get or None))
                                                 if v}},
              st.sampled_from([None, "on", "off", "auto"]), st.sampled_from([None, "slow", "fast"]), st.booleans()),
    st.just({"fields": "both"}),  # a command changing led and mode, whatever they are then
    st.just({"fields": "both", "then": "edge"}),  # ... and a button edge right after it
    st.builds(lambda raw: {"cmd": raw}, st.sampled_from(BAD_COMMANDS)),
    st.just({"snapshot": True}))


@st.composite
def node_streams(draw) -> list[Msg]:
    """What the firmware's rules publish for generated inputs: `Msg`s as the checker hands them to the model."""
    driver = node_driver()
    state = driver.rules.initial()
    stream = [Msg(model.BOOT)]
    for number, given in enumerate(draw(st.lists(INPUT, min_size=1, max_size=30))):
        then = given.get("then")
        if "fields" in given:  # a valid command (nothing in it: "nothing to do"), with an id of its own
            fields = given["fields"]
            if fields == "both":
                fields = {"mode": "fast" if state["mode"] == "slow" else "slow",
                          "led": "on" if state["led"] != "on" else "off"}
            given = {"cmd": json.dumps({"id": f"c-{number}", **fields})}
        command = model.parse_command(given["cmd"].encode()) if "cmd" in given else None
        for item in driver.run_step(state, given):
            (kind, body), = item.items()
            stream.append(Msg(kind, full_snapshot(body) if kind == "state" else body,
                              command=command if kind == "ack" else None))
        if then:
            for item in driver.run_step(state, {"button": "a", "pressed": not state["buttons"]["a"]}):
                stream.append(Msg("event", item["event"]))
    stream.append(Msg("state", full_snapshot(driver.snapshot(state))))  # the heartbeat
    return stream


# Some mutations need a rare spot (a command with two changes, its ack, then a button edge): the streams
# without one are filtered out (assume), which is expected, not a slow generator.
RULES_SETTINGS = settings(max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@RULES_SETTINGS
@given(node_streams())
def test_what_the_firmware_rules_publish_passes_the_model(stream):
    assert run_model(stream) == []


def _ver(m: Msg) -> int | None:
    return m.body.get("ver") if isinstance(m.body, dict) else None


def _body(m: Msg, **changes) -> Msg:
    return _replace(m, body={**m.body, **changes})


def drop_an_event(stream, data):
    events = [i for i, m in enumerate(stream) if m.kind == "event"]
    assume(events)
    i = data.draw(st.sampled_from(events))
    return stream[:i] + stream[i + 1:]


def swap_two_of_different_ver(stream, data):
    pairs = [i for i in range(1, len(stream) - 1) if _ver(stream[i]) is not None and _ver(stream[i + 1]) is not None
             and _ver(stream[i]) != _ver(stream[i + 1])]
    assume(pairs)
    i = data.draw(st.sampled_from(pairs))
    return stream[:i] + [stream[i + 1], stream[i]] + stream[i + 2:]


def change_a_field(stream, data):
    """One field of one message to another value the protocol allows (never `lit`: it may lag)."""
    flip = {"led": {"on": "off", "off": "auto", "auto": "on"}, "mode": {"slow": "fast", "fast": "slow"}}
    choices = []
    for i, m in enumerate(stream):
        b = m.body if isinstance(m.body, dict) else {}
        if m.kind == "event" and b["kind"] == "button":
            choices += [(i, "pressed", not b["pressed"]), (i, "presses", b["presses"] + 1),
                        (i, "button", "b" if b["button"] == "a" else "a")]
        elif m.kind == "event":
            choices += [(i, b["kind"], flip[b["kind"]][b[b["kind"]]]),
                        (i, "by", "button") if b["by"] == "cmd" else (i, "by", "cmd")]
        elif m.kind == "state":
            choices += [(i, "led", flip["led"][b["led"]]), (i, "mode", flip["mode"][b["mode"]]),
                        (i, "presses", {**b["presses"], "a": b["presses"]["a"] + 1}),
                        (i, "buttons", {**b["buttons"], "b": not b["buttons"]["b"]}), (i, "ver", b["ver"] + 1)]
        elif m.kind == "ack" and b["ok"]:
            choices += [(i, "ver", b["ver"] + 1)] + ([(i, "ver", b["ver"] - 1)] if b["ver"] else [])
    assume(choices)
    i, field, value = data.draw(st.sampled_from(choices))
    changed = _body(stream[i], **{field: value})
    if field == "by" and value == "cmd":
        changed = _body(changed, cmd="x")
    return stream[:i] + [changed] + stream[i + 1:]


def b_stops_toggling(stream, data):
    """The node forgets B's mode toggle: the toggle's event is gone and every later version one lower."""
    toggles = [i for i, m in enumerate(stream) if m.kind == "event" and m.body["kind"] == "mode"
               and m.body["by"] == "button"]
    assume(toggles)
    i = data.draw(st.sampled_from(toggles))
    later = [_body(m, ver=m.body["ver"] - 1) if _ver(m) is not None else m for m in stream[i + 1:]]
    if data.draw(st.booleans()):  # ... and the mode stays what it was, in what it shows later too
        mode = stream[i].body["mode"]
        other = "fast" if mode == "slow" else "slow"
        later = [_body(m, mode=other) if m.kind == "state" and m.body["mode"] == mode else m for m in later]
    return stream[:i] + later


def mode_before_led(stream, data):
    """A command's two changes made in the wrong order: mode first, then led (vers as published)."""
    pairs = [i for i in range(len(stream) - 1) if stream[i].kind == "event" == stream[i + 1].kind
             and stream[i].body["kind"] == "led" and stream[i + 1].body["kind"] == "mode"
             and stream[i].body["by"] == "cmd" == stream[i + 1].body["by"]]
    assume(pairs)
    i = data.draw(st.sampled_from(pairs))
    led, mode = stream[i], stream[i + 1]
    return stream[:i] + [_replace(mode, body={**mode.body, "ver": led.body["ver"]}),
                         _replace(led, body={**led.body, "ver": mode.body["ver"]})] + stream[i + 2:]


def presses_reset(stream, data):
    """A count of presses starts again from 0 within a boot (in an event, or in a snapshot)."""
    spots = [i for i, m in enumerate(stream) if m.kind == "event" and m.body["kind"] == "button"
             and m.body["presses"] > 0 or m.kind == "state" and m.body["presses"] != {"a": 0, "b": 0}]
    assume(spots)
    i = data.draw(st.sampled_from(spots))
    m = stream[i]
    reset = _body(m, presses=0) if m.kind == "event" else _body(m, presses={"a": 0, "b": 0})
    return stream[:i] + [reset] + stream[i + 1:]


def a_command_changes_what_it_does_not_name(stream, data):
    """The ack of a command that made a change answers a command without that field (a get, say)."""
    acks = [i for i, m in enumerate(stream) if m.kind == "ack" and m.body["ok"] and i and stream[i - 1].kind == "event"
            and stream[i - 1].body.get("cmd") == m.body["id"]]
    assume(acks)
    i = data.draw(st.sampled_from(acks))
    made = {stream[j].body["kind"] for j in range(1, i) if stream[j].kind == "event"
            and stream[j].body.get("cmd") == stream[i].body["id"]}
    fields = {k: v for k, v in stream[i].command.fields.items() if k not in made} or {"get": True}
    answered = _replace(stream[i], command=model.Command(stream[i].body["id"], fields, None))
    return stream[:i] + [answered] + stream[i + 1:]


def a_command_cut_in_two(stream, data):
    """A button edge made between a command's two changes (its led, then its mode), as if the command let go of
    the lock between them: the edge moves before the mode change, the versions follow."""
    spots = [i for i in range(len(stream) - 3) if stream[i].kind == "event" == stream[i + 1].kind
             and stream[i].body.get("cmd") is not None and stream[i + 1].body.get("cmd") == stream[i].body["cmd"]
             and stream[i + 2].kind == "ack" and stream[i + 3].kind == "event"
             and stream[i + 3].body["kind"] == "button"]
    assume(spots)
    i = data.draw(st.sampled_from(spots))
    led, mode, ack, edge = stream[i:i + 4]
    v = led.body["ver"]
    return stream[:i] + [led, _body(edge, ver=v + 1), _body(mode, ver=v + 2), _body(ack, ver=v + 2)] + stream[i + 4:]


def a_boot_that_does_not_start_over(stream, data):
    """The boot mark, then a node that carries on from a state that is not the initial one."""
    start = data.draw(st.sampled_from([{"mode": "fast"}, {"led": "on"}, {"presses": {"a": 3, "b": 0}}]))
    return stream[:1] + [Msg("state", full_snapshot(start))] + stream[1:]


MUTATIONS = {  # each, and the rules that may catch it (None: whichever rule the change breaks)
    drop_an_event: None, swap_two_of_different_ver: None, change_a_field: None,
    b_stops_toggling: {model.B_TOGGLES_MODE}, mode_before_led: {model.CMD_LED_FIRST},
    presses_reset: {model.PRESS_COUNTS, model.SNAPSHOT_STATE},
    a_command_changes_what_it_does_not_name: {model.CMD_CHANGES_NAMED},
    a_command_cut_in_two: {model.CMD_ONE_STEP},
    a_boot_that_does_not_start_over: {model.BOOT_INITIAL}}


@pytest.mark.parametrize("mutate", MUTATIONS, ids=[f.__name__ for f in MUTATIONS])
@RULES_SETTINGS
@given(stream=node_streams(), data=st.data())
def test_each_mutation_of_what_the_firmware_publishes_is_caught(mutate, stream, data):
    problems = run_model(mutate(stream, data))
    assert problems, f"{mutate.__name__} went unnoticed"
    rules = {p.rule for _, p in problems}
    assert None not in rules
    if MUTATIONS[mutate] is not None:
        assert rules & MUTATIONS[mutate], (mutate.__name__, problems)
