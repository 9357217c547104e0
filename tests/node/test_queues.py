# Pure-module cases: plain functions and asserts, run by pytest and by tests/node/mp_run.py under MicroPython.
from outbox import Outbox
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
    assert box.acked(p2)            # out of order: e2 is done, e1 still waits for its own
    assert len(box) == 1 and box.in_flight() == 1
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


def test_a_snapshot_goes_after_the_events_before_it_and_before_those_after_it():
    box = Outbox(8)
    box.put("event", "e1")
    box.put_snapshot("s1")
    box.put("event", "e2")
    assert [b for _, b, _ in _send_all(box)] == ["e1", "s1", "e2"]


def test_a_snapshot_in_flight_is_not_replaced_by_the_next():
    box = Outbox(4)
    box.put_snapshot("s1")
    first = _send_all(box)
    box.put_snapshot("s2")
    assert [b for _, b, _ in _send_all(box, 5)] == ["s2"]
    assert first[0][1] == "s1" and box.in_flight() == 2


def test_snapshots_never_take_room_from_events():
    # The outage that used to lose events: a snapshot every heartbeat while nothing can be sent.
    box = Outbox(4)
    for i in range(4):
        box.put("event", i)
        for _ in range(10):
            box.put_snapshot("s")
    assert box.dropped == 0 and len(box) == 5
    assert [b for _, b, _ in _send_all(box)] == [0, 1, 2, 3, "s"]


def test_overflow_drops_exactly_the_oldest_waiting_and_counts_them():
    box = Outbox(3)
    for i in range(5):
        box.put("event", i)
    assert box.dropped == 2
    assert [b for _, b, _ in _send_all(box)] == [2, 3, 4]


def test_a_snapshot_waiting_behind_dropped_events_still_goes_in_its_place():
    box = Outbox(2)
    box.put("event", 0)
    box.put("event", 1)
    box.put_snapshot("s")       # made after events 0 and 1
    box.put("event", 2)         # 0 dropped
    box.put("event", 3)         # 1 dropped: the snapshot is now due first
    assert box.dropped == 2
    assert [b for _, b, _ in _send_all(box)] == ["s", 2, 3]


def test_an_entry_in_flight_is_never_dropped():
    box = Outbox(2)
    box.put("event", "e1")
    (_, _, p1), = _send_all(box)
    box.put("event", "e2")
    box.put("event", "e3")          # waiting is full, but e1 is in flight, not waiting
    assert box.dropped == 0
    box.put("event", "e4")          # now e2, the oldest waiting, goes
    assert box.dropped == 1
    assert box.acked(p1)
    assert [b for _, b, _ in _send_all(box, 7)] == ["e3", "e4"]


def test_rewind_resends_in_flight_snapshots_and_events_in_their_order():
    box = Outbox(4)
    box.put("event", "e1")
    box.put_snapshot("s1")
    box.put("event", "e2")
    sent = _send_all(box)
    assert box.acked(sent[0][2])
    box.rewind()
    box.put_snapshot("s2")
    box.put("event", "e3")
    again = _send_all(box, 20)
    assert [b for _, b, _ in again] == ["s1", "e2", "s2", "e3"]
    assert box.in_flight() == 4
    _ack_all(box, again)
    assert len(box) == 0 and box.in_flight() == 0


def test_a_puback_during_resending_keeps_the_order():
    box = Outbox(8)
    for i in range(3):
        box.put("event", i)
    sent = _send_all(box)
    box.rewind()
    e = box.next_to_send()
    box.sent(e, 30)
    assert box.acked(30)            # the resent first one is acknowledged before the others went
    assert [b for _, b, _ in _send_all(box, 31)] == [1, 2]
    assert len(sent) == 3 and box.in_flight() == 2
