# Pure-module cases: plain functions and asserts, run by pytest and by tests/node/mp_run.py under MicroPython.
from outbox import DONE, Outbox
from ring import Ring


def test_ring_is_fifo_bounded_and_indexable():
    r = Ring(2)
    r.push(1)
    r.push(2)
    assert r.full() and len(r) == 2 and r[0] == 1 and r[1] == 2
    try:
        r.push(3)
        raise AssertionError("pushed into a full ring")
    except IndexError:
        pass
    assert r.pop() == 1
    r.push(3)
    assert r[0] == 2 and r[1] == 3
    assert [r.pop(), r.pop(), r.pop()] == [2, 3, None]


def _send_all(box, first_pid=1):
    """Hand out everything waiting, as the link would; returns [(kind, body, pid)]."""
    out = []
    pid = first_pid
    entry = box.next_to_send()
    while entry is not None:
        box.sent(entry, pid)
        out.append((entry[0], entry[1], pid))
        pid += 1
        entry = box.next_to_send()
    return out


def _ack_all(box, sent):
    for _, _, pid in sent:
        assert box.acked(pid)


def test_outbox_keeps_order_and_wakes_the_link():
    woken = []
    box = Outbox(8, lambda: woken.append(1))
    box.put("event", 1)
    box.put("ack", 2)
    assert len(woken) == 2
    sent = _send_all(box)
    assert [(k, b) for k, b, _ in sent] == [("event", 1), ("ack", 2)]
    assert box.in_flight() == 2 and len(box) == 2
    _ack_all(box, sent)
    assert box.in_flight() == 0 and len(box) == 0


def test_an_entry_stays_until_its_puback():
    box = Outbox(8)
    box.put("event", "e1")
    box.put("event", "e2")
    (_, _, p1), (_, _, p2) = _send_all(box)
    assert box.acked(p2)            # out of order: e2 is done, e1 still holds the front
    assert len(box) == 2 and box.in_flight() == 1
    assert not box.acked(99)        # an id nobody waits for
    assert box.acked(p1)
    assert len(box) == 0


def test_rewind_sends_the_unacknowledged_again_in_order():
    box = Outbox(8)
    for i in range(3):
        box.put("event", i)
    sent = _send_all(box)
    assert box.acked(sent[0][2])
    box.rewind()                    # the link went down with 1 and 2 in flight
    box.put("event", 3)
    assert [b for _, b, _ in _send_all(box, 10)] == [1, 2, 3]


def test_only_the_newest_unsent_snapshot_waits_after_older_events():
    box = Outbox(8)
    box.put("event", "e1")
    box.put_snapshot("s1")
    box.put("event", "e2")
    box.put_snapshot("s2")
    assert [(k, b) for k, b, _ in _send_all(box)] == [("event", "e1"), ("event", "e2"), ("state", "s2")]
    assert box.dropped == 0


def test_a_snapshot_in_flight_is_not_blanked_by_the_next():
    box = Outbox(4)
    box.put_snapshot("s1")
    first = _send_all(box)
    box.put_snapshot("s2")
    assert [b for _, b, _ in _send_all(box, 5)] == ["s2"]
    assert first[0][1] == "s1" and box.in_flight() == 2


def test_overflow_drops_the_oldest_and_counts_it():
    box = Outbox(3)
    for i in range(5):
        box.put("event", i)
    assert box.dropped == 2
    assert [b for _, b, _ in _send_all(box)] == [2, 3, 4]


def test_overflow_may_drop_an_entry_in_flight():
    box = Outbox(2)
    box.put("event", "e1")
    (_, _, p1), = _send_all(box)
    box.put("event", "e2")
    box.put("event", "e3")          # full: e1, in flight, goes
    assert box.dropped == 1
    assert not box.acked(p1)        # its late PUBACK matches nothing
    assert [b for _, b, _ in _send_all(box, 7)] == ["e2", "e3"]


def test_a_dropped_blank_or_acknowledged_entry_is_not_counted():
    box = Outbox(3)
    box.put_snapshot("s1")          # becomes a blank below
    box.put("event", "e1")
    box.put_snapshot("s2")
    box.put("event", "e2")          # full: the blank goes, nothing real was lost
    assert box.dropped == 0
    assert [b for _, b, _ in _send_all(box)] == ["e1", "s2", "e2"]


def test_done_marker_is_negative():
    assert DONE < 0
