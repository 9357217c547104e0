"""The node through outages, as real processes: its broker killed and restarted, its network cut (the node
in a network namespace of its own), its Wi-Fi dropped. Each time it must notice, come back by itself with
a new session of the same boot, lose no event (each arrives once, or again as a duplicate of the same
message), report every press made meanwhile, and keep blinking: the LED, in fast mode, never waits
longer than the blink period plus 50 ms between changes, from the start of the outage until the backlog
has been delivered. The scenarios live in tests/outage_harness.py (bench/node_bench.py runs them too).

The recorder and the node both reconnect after a broker restart; had the node been first, the broker
would have dropped its backlog for want of a subscriber and the recording would show a loss that is the
test's own doing. So the node reaches the broker through a gate (a TCP forwarder) that stays shut until
the recorder is subscribed again.

What the brokers here do with the Last Will (measured):
- Mosquitto 2.0.11 stopped with SIGTERM publishes the wills of its connected clients before it closes
  their connections; killed with SIGKILL it cannot. amqtt 0.12 publishes none in either case.
- Node's network cut, broker alive: Mosquitto publishes the will after the keepalive expires (later than
  1.5 keepalives: about 5 s with a 2 s keepalive). amqtt 0.12 never expires a silent client (its read
  timeout handler does nothing): its will comes only when the old connection breaks, after the link
  is back.
- Wi-Fi drop (the node closes its socket without a DISCONNECT): both publish the will at once.
"""

import signal

import pytest

from tests.outage_harness import (FAST_LINK, KEEPALIVE_S, STALL_BOUND_S, BrokerProcess, Gate, NodeProcess,
                                  OutageRun, Partition, Recorder, broker_outage, partition_outage, wifi_outage)

DEVICE = "outage-node"


def assert_no_stall(gap, what):
    assert gap < STALL_BOUND_S, "the LED waited %.0f ms between changes during the %s (at most %.0f)" % (
        gap * 1000, what, STALL_BOUND_S * 1000)


@pytest.mark.parametrize("kind", ["mosquitto", "amqtt"])
def test_broker_killed_and_restarted_the_node_comes_back_and_loses_nothing(kind, tmp_path):
    # Mosquitto publishes wills on SIGTERM: alternate, to assert both what happens and what cannot.
    signals = [signal.SIGTERM, signal.SIGKILL, signal.SIGTERM] if kind == "mosquitto" else \
        [signal.SIGKILL, signal.SIGTERM, signal.SIGKILL]
    with BrokerProcess(kind, tmp_path) as broker, Gate(broker.host, broker.port) as gate:
        recorder = Recorder(broker.addr, tmp_path / "recording.jsonl")
        node = NodeProcess(gate.addr, DEVICE, tmp_path / "board", FAST_LINK)
        try:
            node.wait_connected(1)
            run = OutageRun(node, recorder)
            for sig in signals:
                out = broker_outage(run, broker, gate, sig)
                assert_no_stall(out["gap"], "broker outage")
                wills = run.wills(out["sess"])
                if kind == "mosquitto" and sig == signal.SIGTERM:
                    assert wills and wills[0]["boot"] == run.boot, "Mosquitto stopped without publishing the will"
                if sig == signal.SIGKILL:
                    assert not wills, "a will from a broker killed with SIGKILL: %s" % wills
            assert node.alive()
            print(kind, run.finish())
        finally:
            node.stop()
            recorder.stop()


@pytest.mark.parametrize("kind", ["mosquitto", "amqtt"])
def test_network_partition_is_noticed_within_a_keepalive_and_heals(kind, tmp_path):
    with Partition() as net, BrokerProcess(kind, tmp_path, host=net.host_addr) as broker:
        recorder = Recorder(broker.addr, tmp_path / "recording.jsonl")
        node = NodeProcess(broker.addr, DEVICE, tmp_path / "board", FAST_LINK, prefix=net.prefix())
        try:
            node.wait_connected(1)
            run = OutageRun(node, recorder)
            measured = []
            for _ in range(2):
                # Mosquitto is alive and publishes the will once the node's keepalive has expired.
                out = partition_outage(run, net, wait_for_will=kind == "mosquitto")
                assert out["noticed"] <= 1.5 * KEEPALIVE_S, "the node noticed the cut after %.2f s" % out["noticed"]
                assert_no_stall(out["gap"], "network partition")
                if out["will"] is not None:
                    assert out["will"]["boot"] == run.boot and "seq" not in out["will"] and "ts" not in out["will"]
                # amqtt's will comes (if at all) once the link is back; whenever it comes, it names the lost session.
                for will in run.wills(out["sess"]):
                    assert will["boot"] == run.boot and "ts" not in will
                measured.append((round(out["noticed"], 2), out["will_after"] and round(out["will_after"], 2)))
            assert node.alive()
            print(kind, run.finish(), "(noticed after s, will after s):", measured)
        finally:
            node.stop()
            recorder.stop()


def test_wifi_drop_is_noticed_in_words_and_the_node_rejoins(tmp_path):
    with BrokerProcess("mosquitto", tmp_path) as broker:
        recorder = Recorder(broker.addr, tmp_path / "recording.jsonl")
        node = NodeProcess(broker.addr, DEVICE, tmp_path / "board",
                           FAST_LINK + ("WIFI_SSID='sim-ap'", "WIFI_CHECK_MS=200"))
        try:
            node.wait_connected(1)
            node.child.wait_line("wifi: connected to sim-ap")
            run = OutageRun(node, recorder)
            for _ in range(2):
                out = wifi_outage(run)
                assert_no_stall(out["gap"], "Wi-Fi drop")
                assert out["will"]["boot"] == run.boot and "seq" not in out["will"]
            assert node.alive()
            print(run.finish())
        finally:
            node.stop()
            recorder.stop()
