# Pure-module cases: plain functions and asserts, run by pytest and by tests/node/mp_run.py under MicroPython.
import rules


def test_initial_state():
    s = rules.initial()
    assert s == {"ver": 0, "led": "auto", "mode": "slow",
                 "buttons": {"a": False, "b": False}, "presses": {"a": 0, "b": 0}}


def test_press_and_release_a():
    s = rules.initial()
    ev = rules.button_edge(s, "a", True)
    assert ev == [{"kind": "button", "button": "a", "pressed": True, "presses": 1, "ver": 1}]
    ev = rules.button_edge(s, "a", False)
    assert ev == [{"kind": "button", "button": "a", "pressed": False, "presses": 1, "ver": 2}]
    assert s["presses"]["a"] == 1 and s["ver"] == 2 and s["buttons"]["a"] is False


def test_same_level_is_no_change():
    s = rules.initial()
    assert rules.button_edge(s, "a", False) == []
    assert s["ver"] == 0


def test_press_b_toggles_mode_as_a_second_change():
    s = rules.initial()
    ev = rules.button_edge(s, "b", True)
    assert [e["kind"] for e in ev] == ["button", "mode"]
    assert [e["ver"] for e in ev] == [1, 2]
    assert ev[1]["mode"] == "fast" and ev[1]["by"] == "button"
    rules.button_edge(s, "b", False)
    ev = rules.button_edge(s, "b", True)
    assert ev[1]["mode"] == "slow" and s["ver"] == 5 and s["presses"]["b"] == 2


def test_command_changes_led_then_mode():
    s = rules.initial()
    ev = rules.apply_command(s, "c1", {"mode": "fast", "led": "on"})
    assert [(e["kind"], e["ver"]) for e in ev] == [("led", 1), ("mode", 2)]
    assert ev[0] == {"kind": "led", "led": "on", "by": "cmd", "cmd": "c1", "ver": 1}
    assert s["led"] == "on" and s["mode"] == "fast"


def test_command_equal_to_state_changes_nothing():
    s = rules.initial()
    assert rules.apply_command(s, "c1", {"led": "auto", "mode": "slow"}) == []
    assert rules.apply_command(s, "c2", {"get": True}) == []
    assert s["ver"] == 0
