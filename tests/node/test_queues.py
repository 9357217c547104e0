# Pure-module cases: plain functions and asserts, run by pytest and by tests/node/mp_run.py under MicroPython.
from outbox import Outbox
from ring import Ring


def test_ring_is_fifo_and_bounded():
    r = Ring(2)
    r.push(1)
    r.push(2)
    assert r.full() and len(r) == 2
    try:
        r.push(3)
        raise AssertionError("pushed into a full ring")
    except IndexError:
        pass
    assert r.pop() == 1
    r.push(3)
    assert [r.pop(), r.pop(), r.pop()] == [2, 3, None]


def _drain(box):
    out = []
    entry = box.peek()
    while entry is not None:
        out.append((entry[0], entry[1]))
        box.pop()
        entry = box.peek()
    return out


def test_outbox_keeps_order_and_wakes_the_link():
    woken = []
    box = Outbox(8, lambda: woken.append(1))
    box.put("event", 1)
    box.put("ack", 2)
    assert len(woken) == 2
    assert _drain(box) == [("event", 1), ("ack", 2)]


def test_only_the_newest_snapshot_waits_and_it_comes_after_older_events():
    box = Outbox(8)
    box.put("event", "e1")
    box.put_snapshot("s1")
    box.put("event", "e2")
    box.put_snapshot("s2")
    assert _drain(box) == [("event", "e1"), ("event", "e2"), ("state", "s2")]
    assert box.dropped == 0


def test_a_snapshot_sent_is_not_blanked_by_the_next():
    box = Outbox(4)
    box.put_snapshot("s1")
    assert _drain(box) == [("state", "s1")]
    box.put_snapshot("s2")
    assert _drain(box) == [("state", "s2")]


def test_overflow_drops_the_oldest_and_counts_it():
    box = Outbox(3)
    for i in range(5):
        box.put("event", i)
    assert box.dropped == 2
    assert _drain(box) == [("event", 2), ("event", 3), ("event", 4)]


def test_a_dropped_tombstone_is_not_counted():
    box = Outbox(3)
    box.put_snapshot("s1")      # becomes a tombstone below
    box.put("event", "e1")
    box.put_snapshot("s2")
    box.put("event", "e2")      # full: the tombstone goes, nothing real was lost
    assert box.dropped == 0
    assert _drain(box) == [("event", "e1"), ("state", "s2"), ("event", "e2")]
