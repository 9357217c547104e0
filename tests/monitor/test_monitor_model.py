"""The device model on its own: pure steps, one message kind at a time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from monitor import model
from monitor.model import INCONSISTENT, MALFORMED, UNKNOWN


@dataclass(frozen=True)
class Msg:
    kind: str
    body: Any
    retained: bool = False


SNAP = {"boot": "9f1c2a7b", "sess": 1, "seq": 17, "ts": 8120, "ver": 6, "led": "auto", "lit": 1, "mode": "fast",
        "buttons": {"a": True, "b": False}, "presses": {"a": 2, "b": 1}, "temp_c": 24.3, "dropped": 0,
        "cmd_dropped": 0}


def snap(**changes) -> Msg:
    return Msg("state", {**SNAP, **changes})


def event(ver: int, **fields) -> Msg:
    return Msg("event", {"ver": ver, **fields})


def known() -> model.State:
    state, problems = model.step(model.init(), snap())
    assert problems == ()
    return state


def test_init_knows_nothing_and_events_before_a_baseline_are_unchecked():
    state = model.init()
    assert not state.known
    after, problems = model.step(state, event(99, kind="led", led="on", by="cmd", cmd="x"))
    assert (after, problems) == (state, ())


def test_first_snapshot_is_the_baseline():
    state = known()
    assert model.view(state) == {"ver": 6, "led": "auto", "mode": "fast", "buttons": {"a": True, "b": False},
                                 "presses": {"a": 2, "b": 1}}
    assert model.from_snapshot(SNAP) == state


def test_step_never_mutates_its_input():
    state = known()
    before = model.view(state)
    new, _ = model.step(state, event(7, kind="button", button="a", pressed=False, presses=2))
    assert model.view(state) == before
    assert new is not state and new.ver == 7


def test_press_raises_the_count_by_one_and_release_keeps_it():
    state = known()
    state, problems = model.step(state, event(7, kind="button", button="b", pressed=True, presses=2))
    assert problems == ()
    state, problems = model.step(state, event(8, kind="button", button="b", pressed=False, presses=2))
    assert problems == ()
    assert dict(state.presses) == {"a": 2, "b": 2} and dict(state.buttons) == {"a": True, "b": False}


def test_press_counting_twice_is_inconsistent():
    _, problems = model.step(known(), event(7, kind="button", button="b", pressed=True, presses=3))
    assert [(p.kind, p.expected, p.seen) for p in problems] == [
        (INCONSISTENT, {"presses": {"b": 2}}, {"presses": {"b": 3}})]


def test_an_edge_to_the_level_already_held_is_inconsistent():
    _, problems = model.step(known(), event(7, kind="button", button="a", pressed=True, presses=3))
    assert [p.kind for p in problems] == [INCONSISTENT]


def test_mode_and_led_events_set_them():
    state, p1 = model.step(known(), event(7, kind="mode", mode="slow", by="button"))
    state, p2 = model.step(state, event(8, kind="led", led="off", by="cmd", cmd="c-1"))
    assert p1 == p2 == ()
    assert (state.mode, state.led, state.ver) == ("slow", "off", 8)


def test_an_event_that_changes_nothing_is_inconsistent():
    _, problems = model.step(known(), event(7, kind="mode", mode="fast", by="cmd", cmd="c-1"))
    assert [p.kind for p in problems] == [INCONSISTENT]


def test_skipped_versions_make_the_model_unknown_until_a_snapshot():
    state, problems = model.step(known(), event(9, kind="led", led="on", by="cmd", cmd="c-1"))
    assert [p.kind for p in problems] == [UNKNOWN]
    assert not state.known
    state, problems = model.step(state, snap(ver=12, led="on"))
    assert problems == () and state.known and state.ver == 12


def test_a_version_going_backwards_is_inconsistent():
    _, problems = model.step(known(), event(6, kind="led", led="on", by="cmd", cmd="c-1"))
    assert [(p.kind, p.expected, p.seen) for p in problems] == [(INCONSISTENT, {"ver": 7}, {"ver": 6})]


def test_live_snapshot_at_the_model_ver_must_match():
    state, problems = model.step(known(), snap(mode="slow"))
    assert [p.kind for p in problems] == [INCONSISTENT]
    assert problems[0].expected["mode"] == "fast" and problems[0].seen["mode"] == "slow"
    assert state.mode == "slow"  # re-based on the snapshot: one error does not cascade


def test_snapshot_ahead_is_unknown_and_adopted_snapshot_behind_is_inconsistent():
    state, problems = model.step(known(), snap(ver=8, led="on"))
    assert [p.kind for p in problems] == [UNKNOWN] and state.ver == 8
    state, problems = model.step(state, snap(ver=7))
    assert [p.kind for p in problems] == [INCONSISTENT] and state.ver == 8


def test_retained_snapshot_after_a_baseline_is_history():
    state = known()
    after, problems = model.step(state, Msg("state", {**SNAP, "ver": 2, "mode": "slow"}, retained=True))
    assert (after, problems) == (state, ())


def test_ok_ack_must_carry_the_model_ver():
    state = known()
    assert model.step(state, Msg("ack", {"id": "c-1", "ok": True, "ver": 6}))[1] == ()
    _, problems = model.step(state, Msg("ack", {"id": "c-1", "ok": True, "ver": 5}))
    assert [p.kind for p in problems] == [INCONSISTENT]
    after, problems = model.step(state, Msg("ack", {"id": "c-1", "ok": True, "ver": 8}))
    assert [p.kind for p in problems] == [UNKNOWN] and not after.known
    assert model.step(state, Msg("ack", {"id": None, "ok": False, "error": "not JSON"}))[1] == ()


@pytest.mark.parametrize("msg, words", [
    (Msg("state", {**SNAP, "led": "blue"}), '"led"'),
    (Msg("state", {**SNAP, "buttons": {"a": True}}), '"buttons"'),
    (Msg("state", {**SNAP, "presses": {"a": -1, "b": 0}}), '"presses.a"'),
    (Msg("state", {k: v for k, v in SNAP.items() if k != "temp_c"}), '"temp_c"'),
    (Msg("event", {"ver": 1, "kind": "wink"}), '"kind"'),
    (Msg("event", {"ver": 1, "kind": "button", "button": "c", "pressed": True, "presses": 1}), '"button"'),
    (Msg("event", {"ver": 1, "kind": "mode", "mode": "fast", "by": "cmd"}), '"cmd"'),
    (Msg("ack", {"id": 3, "ok": True, "ver": 1}), '"id"'),
    (Msg("ack", {"id": "c", "ok": True}), '"ver"'),
    (Msg("ack", {"id": "c", "ok": False}), '"error"'),
    (Msg("status", {"online": "yes"}), '"online"'),
    (Msg("event", [1, 2]), "JSON object"),
])
def test_malformed_bodies_are_problems_not_exceptions(msg, words):
    state = known()
    after, problems = model.step(state, msg)
    assert after == state
    assert [p.kind for p in problems] == [MALFORMED]
    assert words in problems[0].detail
