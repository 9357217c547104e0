# Pure-module cases: plain functions and asserts, run by pytest and by tests/node/mp_run.py under MicroPython.
from blink import led_level


def test_forced_policies_ignore_time_and_button():
    for t in (0, 123, 999):
        assert led_level("on", "slow", False, t, 1000, 200) == (1, None)
        assert led_level("off", "fast", True, t, 1000, 200) == (0, None)


def test_auto_lit_while_a_held():
    assert led_level("auto", "fast", True, 150, 1000, 200) == (1, None)


def test_auto_blinks_on_the_grid():
    assert led_level("auto", "slow", False, 0, 1000, 200) == (1, 500)
    assert led_level("auto", "slow", False, 499, 1000, 200) == (1, 1)
    assert led_level("auto", "slow", False, 500, 1000, 200) == (0, 500)
    assert led_level("auto", "slow", False, 1999, 1000, 200) == (0, 1)
    assert led_level("auto", "fast", False, 1030, 1000, 200) == (1, 70)
    assert led_level("auto", "fast", False, 1150, 1000, 200) == (0, 50)


def test_the_wait_always_lands_on_the_next_change():
    for mode, period in (("slow", 1000), ("fast", 200)):
        for t in range(0, 3 * period, 7):
            level, wait = led_level("auto", mode, False, t, 1000, 200)
            assert 0 < wait <= period // 2
            assert led_level("auto", mode, False, t + wait, 1000, 200)[0] != level
