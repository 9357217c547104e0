# Pure-module cases: plain functions and asserts, run by pytest and by tests/node/mp_run.py under MicroPython.
from progress import Progress


def test_fed_only_when_every_watched_task_beat_since_the_last_look():
    p = Progress(("a", "b"))
    assert not p.all_beat()
    assert p.missing() == ["a", "b"]
    p.beat("a")
    assert not p.all_beat()
    assert p.missing() == ["b"]
    p.beat("a")
    p.beat("b")
    assert p.all_beat()
    assert not p.all_beat()         # a new round: nobody has beaten yet


def test_a_task_given_rounds_may_be_silent_for_fewer_looks():
    p = Progress(("a", "net"), {"net": 3})
    p.beat("net")
    for _ in range(3):
        p.beat("a")
        assert p.all_beat()         # net beat, then silent for 1 and 2 looks: within its 3
    p.beat("a")
    assert not p.all_beat() and p.missing() == ["net"]   # the third silent look
    p.beat("a")
    p.beat("net")
    assert p.all_beat() and p.missing() == []
