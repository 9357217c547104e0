# Pure-module cases: plain functions and asserts, run by pytest and by tests/node/mp_run.py under MicroPython.
from progress import Progress


def test_fed_only_when_every_watched_task_beat_since_the_last_look():
    p = Progress(("a", "b"))
    assert not p.all_beat()
    p.beat("a")
    assert p.missing() == ["b"]
    assert not p.all_beat()
    p.beat("a")
    p.beat("b")
    assert p.all_beat()
    assert not p.all_beat()         # a new round: nobody has beaten yet
