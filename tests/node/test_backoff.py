# Pure-module cases: plain functions and asserts, run by pytest and by tests/node/mp_run.py under MicroPython.
from backoff import Backoff


def test_doubles_up_to_the_cap_within_the_upper_half_of_each_step():
    for r in (0.0, 0.5, 0.999):
        b = Backoff(500, 4000, lambda: r)
        waits = [b.next() for _ in range(6)]
        for wait, step in zip(waits, (500, 1000, 2000, 4000, 4000, 4000)):
            assert step // 2 <= wait <= step, (waits, r)


def test_jitter_spreads_the_waits():
    values = iter([0.0, 0.99])
    a = Backoff(1000, 8000, lambda: next(values))
    assert a.next() == 500
    b = Backoff(1000, 8000, lambda: 0.99)
    assert b.next() == 995


def test_reset_starts_again_from_the_minimum():
    b = Backoff(100, 10000, lambda: 0.0)
    for _ in range(5):
        b.next()
    b.reset()
    assert b.next() == 50
