# Pure-module cases: plain functions and asserts, run by pytest and by tests/node/mp_run.py under MicroPython.
from debounce import Debouncer


def _feed(deb, samples):
    """samples: (time_ms, raw) pairs; returns the (time, level) edges reported."""
    out = []
    for t, raw in samples:
        edge = deb.update(raw, t)
        if edge is not None:
            out.append((t, edge))
    return out


def test_clean_press_reported_after_settle_time():
    deb = Debouncer(20)
    samples = [(t, t >= 10) for t in range(0, 60, 5)]
    assert _feed(deb, samples) == [(30, True)]


def test_bounces_shorter_than_settle_are_ignored():
    deb = Debouncer(20)
    # Bouncing every 5 ms for 30 ms, then steady pressed from 40 ms.
    samples = [(0, False), (5, True), (10, False), (15, True), (20, False), (25, True), (30, False),
               (40, True), (45, True), (50, True), (55, True), (60, True)]
    assert _feed(deb, samples) == [(60, True)]


def test_press_then_release():
    deb = Debouncer(10)
    samples = [(t, 20 <= t < 60) for t in range(0, 100, 5)]
    assert _feed(deb, samples) == [(30, True), (70, False)]


def test_starts_at_given_level():
    deb = Debouncer(10, True)
    assert deb.level is True
    assert _feed(deb, [(0, True), (50, True)]) == []
