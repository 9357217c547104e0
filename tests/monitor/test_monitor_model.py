"""The device model on its own: pure steps, one input at a time, each case labelled with its problems."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from monitor import model
from monitor.checker import Mark
from monitor.model import DROPPED_ON_DEVICE, INCONSISTENT, MALFORMED


@dataclass(frozen=True)
class Msg:
    kind: str
    body: Any
    retained: bool = False
    command: Any = None


SNAP = {"boot": "9f1c2a7b", "sess": 1, "seq": 17, "ts": 8120, "ver": 6, "led": "auto", "lit": 1, "mode": "fast",
        "buttons": {"a": True, "b": False}, "presses": {"a": 2, "b": 1}, "temp_c": 24.3, "dropped": 0,
        "cmd_dropped": 0}


def snap(**changes) -> Msg:
    return Msg("state", {**SNAP, **changes})


def event(ver: int, **fields) -> Msg:
    return Msg("event", {"ver": ver, **fields})


def ack(ver: int | None, cid: str = "c-1", ok: bool = True, command: Any = None, error: str | None = None) -> Msg:
    body = {"id": cid, "ok": ok, **({"ver": ver} if ok else {"error": error})}
    return Msg("ack", body, command=command)


def run(*inputs, state=None):
    """Step through `inputs`; the final state and every problem's kind."""
    state = state or model.init()
    kinds = []
    for i in inputs:
        state, problems = model.step(state, i)
        kinds += [p.kind for p in problems]
    return state, kinds


def known() -> model.State:
    state, kinds = run(snap())
    assert kinds == []
    return state


def test_init_knows_nothing_and_an_event_before_a_baseline_only_sets_the_version():
    state, kinds = run(event(99, kind="led", led="on", by="cmd", cmd="x"))
    assert kinds == [] and state.ver == 99 and not state.known


def test_first_snapshot_is_the_baseline():
    state = known()
    assert model.view(state) == {"ver": 6, "led": "auto", "mode": "fast", "buttons": {"a": True, "b": False},
                                 "presses": {"a": 2, "b": 1}}


def test_step_never_mutates_its_input():
    state = known()
    before = model.view(state)
    new, _ = model.step(state, event(7, kind="button", button="a", pressed=False, presses=2))
    assert model.view(state) == before and new.ver == 7


def test_press_raises_the_count_by_one_and_release_keeps_it():
    state, kinds = run(event(7, kind="button", button="b", pressed=True, presses=2),
                       event(8, kind="mode", mode="slow", by="button"),  # (B's toggle, in the same step)
                       event(9, kind="button", button="b", pressed=False, presses=2),
                       event(10, kind="button", button="a", pressed=False, presses=2), state=known())
    assert kinds == []
    assert model.view(state)["presses"] == {"a": 2, "b": 2} and state.mode == "slow"


def test_press_counting_twice_is_inconsistent_with_a_witness():
    _, problems = model.step(known(), event(7, kind="button", button="b", pressed=True, presses=3))
    assert [(p.kind, p.expected, p.seen) for p in problems] == [
        (INCONSISTENT, {"presses": {"b": 2}}, {"presses": {"b": 3}})]


def test_an_event_that_changes_nothing_is_inconsistent():
    assert run(event(7, kind="mode", mode="fast", by="cmd", cmd="c"), state=known())[1] == [INCONSISTENT]
    assert run(event(7, kind="button", button="a", pressed=True, presses=3), state=known())[1] == [INCONSISTENT]


def test_a_version_going_backwards_is_inconsistent():
    _, problems = model.step(known(), event(6, kind="led", led="on", by="cmd", cmd="c"))
    assert [(p.kind, p.expected, p.seen) for p in problems] == [(INCONSISTENT, {"ver": 7}, {"ver": 6})]


def test_snapshot_at_the_model_version_must_match_and_one_lie_is_one_finding():
    state, problems = model.step(known(), snap(mode="slow"))
    assert [p.kind for p in problems] == [INCONSISTENT]
    assert problems[0].expected["mode"] == "fast" and problems[0].seen["mode"] == "slow"
    state, kinds = run(snap(), state=state)  # the truth again: no second finding
    assert kinds == [] and state.known


def test_snapshot_behind_the_model_is_inconsistent():
    state, kinds = run(event(7, kind="led", led="on", by="cmd", cmd="c"), snap(ver=6), state=known())
    assert kinds == [INCONSISTENT] and state.ver == 7


def test_skipped_versions_after_a_gap_are_explained():
    state, kinds = run(Mark("gap", 2), event(9, kind="led", led="on", by="cmd", cmd="c"), snap(ver=9, led="on"),
                       state=known())
    assert kinds == [] and state.known and state.ver == 9


def test_a_gap_followed_by_the_next_version_keeps_the_state_known():
    state, kinds = run(Mark("gap", 1), event(7, kind="led", led="on", by="cmd", cmd="c"), state=known())
    assert kinds == [] and state.known and not state.gap


def test_skipped_versions_with_nothing_lost_need_a_drop_counted():
    skipped = event(9, kind="led", led="on", by="cmd", cmd="c")
    _, kinds = run(skipped, snap(ver=9, led="on", dropped=2), state=known())
    assert kinds == [DROPPED_ON_DEVICE]
    _, problems = model.step(run(skipped, state=known())[0], snap(ver=9, led="on"))
    assert [p.kind for p in problems] == [INCONSISTENT]
    assert "never published" in problems[0].detail


def test_counters_rise_is_dropped_on_device_and_fall_is_inconsistent():
    state, problems = model.step(known(), snap(dropped=3, cmd_dropped=1))
    assert [(p.kind, p.info["counter"], p.info["count"]) for p in problems] == [
        (DROPPED_ON_DEVICE, "dropped", 3), (DROPPED_ON_DEVICE, "cmd_dropped", 1)]
    assert run(snap(dropped=1, cmd_dropped=1), state=state)[1] == [INCONSISTENT]


INITIAL = {**SNAP, "ver": 0, "led": "auto", "lit": 0, "mode": "slow", "buttons": {"a": False, "b": False},
           "presses": {"a": 0, "b": 0}}


def test_boot_mark_knows_the_counters_start_at_zero():
    _, kinds = run(Mark("boot"), Msg("state", {**INITIAL, "dropped": 4}))
    assert kinds == [DROPPED_ON_DEVICE]


def test_boot_mark_knows_the_initial_state():
    state, kinds = run(Mark("boot"))
    assert kinds == [] and state.known
    assert model.view(state) == {"ver": 0, "led": "auto", "mode": "slow", "buttons": {"a": False, "b": False},
                                 "presses": {"a": 0, "b": 0}}
    assert run(event(1, kind="led", led="on", by="cmd", cmd="c"), Msg("state", {**INITIAL, "ver": 1, "led": "on"}),
               state=state)[1] == []


def test_a_gap_forgets_whether_a_command_was_still_making_changes():
    # (its ack may be what went missing: a later rejection with the same id is not blamed for its changes)
    state, _ = run(Mark("boot"), event(1, kind="led", led="on", by="cmd", cmd="c-1"))
    assert state.run == ("c-1", ("led",), None)
    bad = model.parse_command(b'{"id": "c-1", "led": "x"}')
    assert run(ack(None, ok=False, command=bad, error=bad.error), state=state)[1] == [INCONSISTENT]
    assert run(Mark("gap", 1), ack(None, ok=False, command=bad, error=bad.error), state=state)[1] == []


def test_lit_may_lag_a_new_policy_but_never_leaves_it():
    on = {**INITIAL, "ver": 1, "led": "on"}
    state, kinds = run(Mark("boot"), event(1, kind="led", led="on", by="cmd", cmd="c"),
                       Msg("state", {**on, "lit": 0}),   # a `get` snapshot, taken before the LED task ran
                       Msg("state", {**on, "lit": 1}), Msg("state", {**on, "lit": 1}))
    assert kinds == [] and state.lit_ok
    assert run(Msg("state", {**on, "lit": 0}), state=state)[1] == [INCONSISTENT]
    # a change of policy starts over: off may show the old level until the LED task shows it
    state, kinds = run(event(2, kind="led", led="off", by="cmd", cmd="d"),
                       Msg("state", {**on, "ver": 2, "led": "off", "lit": 1}), state=state)
    assert kinds == [] and not state.lit_ok
    # versions missed (a gap) may hide a change of policy and back: nothing is known of the LED then
    state, _ = run(Msg("state", {**on, "ver": 2, "led": "off", "lit": 0}), state=state)
    assert state.lit_ok
    assert run(Mark("gap", 2), event(5, kind="button", button="a", pressed=True, presses=1),
               Msg("state", {**on, "ver": 5, "led": "off", "lit": 1, "buttons": {"a": True, "b": False},
                             "presses": {"a": 1, "b": 0}}), state=state)[1] == []


def test_retained_snapshot_is_a_baseline_only_when_nothing_is_known():
    state, kinds = run(Msg("state", SNAP, retained=True))
    assert kinds == [] and state.known and state.ver == 6
    after, problems = model.step(state, Msg("state", {**SNAP, "ver": 2, "mode": "slow"}, retained=True))
    assert (after, problems) == (state, ())


# --- commands -------------------------------------------------------------------------------------

LED_ON = model.parse_command(b'{"id": "c-1", "led": "on"}')


def test_parse_command_follows_the_protocol_table():
    assert LED_ON == model.Command("c-1", {"led": "on"}, None)
    assert model.parse_command(b"garbage") == model.Command(None, None, "not JSON")
    assert model.parse_command(b'{"id": "c", "zeta": 1, "beta": 2}').error == "unknown key: beta"
    assert model.parse_command(b'{"id": "c", "led": "x", "mode": "y"}').error == "led must be one of: on, off, auto"
    assert model.parse_command(b'{"id": "c"}').error == "nothing to do: give led, mode or get"
    assert model.parse_command(b'{"id": "c", "pad": "' + b"x" * 300 + b'"}').error.startswith("too large")


def test_ok_ack_must_carry_the_model_version():
    state = known()
    assert run(ack(6), state=state)[1] == []
    assert run(ack(5), state=state)[1] == [INCONSISTENT]


def test_ok_ack_whose_command_did_not_take_effect_is_inconsistent_with_the_command_id():
    _, problems = model.step(known(), ack(6, command=LED_ON))  # led is still auto at ver 6
    assert [(p.kind, p.expected, p.seen, p.info["command"]) for p in problems] == [
        (INCONSISTENT, {"led": "on"}, {"led": "auto"}, "c-1")]


def test_ok_ack_when_unknown_makes_the_next_snapshot_show_the_command():
    state, kinds = run(Mark("gap", 1), ack(8, command=LED_ON), state=known())
    assert kinds == [] and not state.known and state.pending
    assert run(snap(ver=8, led="on"), state=state)[1] == []
    _, problems = model.step(state, snap(ver=8, led="off"))
    assert [(p.kind, p.expected, p.seen) for p in problems] == [(INCONSISTENT, {"led": "on"}, {"led": "off"})]
    # a later change of the same field (seen) lifts the expectation
    state2, _ = model.step(state, event(9, kind="led", led="off", by="button"))
    assert run(snap(ver=9, led="off"), state=state2)[1] == []


def test_acceptance_must_agree_with_the_protocol():
    bad = model.parse_command(b'{"id": "c-1", "led": "purple"}')
    assert run(ack(6, command=bad), state=known())[1] == [INCONSISTENT]
    assert run(ack(None, ok=False, command=LED_ON, error="not JSON"), state=known())[1] == [INCONSISTENT]
    assert run(ack(None, ok=False, command=bad, error="not JSON"), state=known())[1] == [INCONSISTENT]
    assert run(ack(None, ok=False, command=bad, error="led must be one of: on, off, auto"), state=known())[1] == []


@pytest.mark.parametrize("msg, words", [
    (Msg("state", {**SNAP, "led": "blue"}), '"led"'),
    (Msg("state", {**SNAP, "buttons": {"a": True}}), '"buttons"'),
    (Msg("state", {**SNAP, "presses": {"a": -1, "b": 0}}), '"presses.a"'),
    (Msg("state", {k: v for k, v in SNAP.items() if k != "temp_c"}), '"temp_c"'),
    (Msg("state", {**SNAP, "dropped": "x"}), '"dropped"'),
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
