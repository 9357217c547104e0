"""Nothing lost in a long outage: the broker gone for ten minutes (longer than a home router's reboot)
while button A is pressed throughout, and the node sending a snapshot every heartbeat meanwhile. When
the broker is back, every event of the outage arrives, in order, once; the node never reset (its
watchdog is armed); `monitor check` finds nothing lost. Past the outbox's capacity, exactly the oldest
events are dropped, counted in the node's `dropped`, and reported by the monitor as `dropped_on_device`.

PICOSTATE_OUTAGE_S shortens the long outage for a quick local run; CI runs the ten minutes.
"""

import os
import signal
import time

from tests.outage_harness import (FAST_LINK, BrokerProcess, Gate, NodeProcess, OutageRun, Recorder,
                                  events_by_boot, monitor_check)

DEVICE = "long-outage-node"
OUTAGE_S = float(os.environ.get("PICOSTATE_OUTAGE_S", "600"))
PRESS_EVERY_S = 5.0


def _outage(run, broker, gate, presses, every_s):
    """Kill the broker behind the shut gate, press button A `presses` times, one every `every_s` s,
    start the broker again and let the node back in once the recorder is subscribed again."""
    node = run.node
    since = node.board.now()
    t0 = time.monotonic()
    gate.close_gate()
    broker.kill(signal.SIGKILL)
    node.wait_line_after("link down", t0, 10)
    start = time.monotonic()
    for i in range(presses):
        run.tap_a(1)
        # the point, not a wait: one press every `every_s` s, spread over the outage (tap_a waits for the
        # node to have counted the one before)
        time.sleep(max(0.0, start + (i + 1) * every_s - time.monotonic()))
    broker.start()
    run.recorder.wait_subscribed(30)
    gate.open_gate()
    return since


def test_a_ten_minute_outage_with_presses_throughout_loses_nothing(tmp_path):
    presses = int(OUTAGE_S // PRESS_EVERY_S)
    with BrokerProcess("mosquitto", tmp_path) as broker, Gate(broker.host, broker.port) as gate:
        recorder = Recorder(broker.addr, tmp_path / "recording.jsonl", reconnect_for=OUTAGE_S + 120)
        node = NodeProcess(gate.addr, DEVICE, tmp_path / "board", FAST_LINK)
        try:
            node.wait_connected(1)
            run = OutageRun(node, recorder)
            since = _outage(run, broker, gate, presses, PRESS_EVERY_S)
            run.came_back(since, "%d s broker outage" % OUTAGE_S)
            summary = run.finish()      # every event once, every seq, no lost/inconsistent, dropped 0
            assert summary["events"] == 3 + 2 * presses, summary
            print(summary)
        finally:
            node.stop()
            recorder.stop()


def test_past_the_outbox_capacity_exactly_the_oldest_events_are_dropped_and_reported(tmp_path):
    capacity, presses = 16, 12      # 24 events made in the outage: the oldest 8 cannot be kept
    with BrokerProcess("mosquitto", tmp_path) as broker, Gate(broker.host, broker.port) as gate:
        recorder = Recorder(broker.addr, tmp_path / "recording.jsonl")
        node = NodeProcess(gate.addr, DEVICE, tmp_path / "board", FAST_LINK + ("OUTBOX_SIZE=%d" % capacity,))
        try:
            node.wait_connected(1)
            run = OutageRun(node, recorder)     # button B: events ver 1 to 3
            since = _outage(run, broker, gate, presses, 0.25)
            run.came_back(since, "broker outage")
            rec = run.rec
            snap = rec.wait_for(DEVICE, "state", lambda m: not m["_retain"] and m["presses"]["a"] == presses, 10)
            made = 3 + 2 * presses
            assert snap["dropped"] == made - 3 - capacity, snap
            vers = sorted(events_by_boot(rec, DEVICE)[run.boot])
            assert vers == [1, 2, 3] + list(range(made - capacity + 1, made + 1)), vers
            assert node.stop() == 0
            recorder.stop()
            kinds, report = monitor_check(rec.path, DEVICE)
            assert "dropped_on_device" in kinds and "lost" not in kinds, report
        finally:
            node.stop()
            recorder.stop()
