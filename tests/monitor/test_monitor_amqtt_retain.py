"""What amqtt 0.12 does with retained messages: the checker relies on the first two facts to keep
retained replays out of the live ordering. The third is a quirk worth knowing (docs/monitor.md)."""

from __future__ import annotations

from .mon_helpers import Client


def test_live_delivery_to_a_subscribed_client_has_retain_0(broker):
    watcher, node = Client(broker, "watcher"), Client(broker, "node")
    try:
        watcher.subscribe("retain1/#")
        node.publish("retain1/state", b"{}", retain=True)
        watcher.wait_received(lambda got: any(m.topic == "retain1/state" for m in got))
        (message,) = [m for m in watcher.received if m.topic == "retain1/state"]
        assert message.retain is False  # MQTT 3.1.1 3.3.1.3: a live message is not flagged retained
    finally:
        watcher.close()
        node.close()


def test_replay_on_subscribe_has_retain_1_and_comes_after_the_suback(broker):
    node = Client(broker, "node")
    node.publish("retain2/state", b'{"v": 1}', retain=True)
    node.close()
    late = Client(broker, "late")
    try:
        late.subscribe("retain2/#")
        late.wait_received(lambda got: any(m.topic == "retain2/state" for m in got))
        replays = [m for m in late.received if m.topic == "retain2/state"]
        assert [(m.retain, m.payload) for m in replays] == [(True, b'{"v": 1}')]
        assert "retain2/state" not in late.topics_at_suback[0]
    finally:
        late.close()


def test_quirk_connecting_client_gets_retained_messages_for_other_clients_filters(broker):
    """amqtt 0.12.1 (broker.py, _handle_client_session) replays, right after CONNACK, the retained
    messages matching *every* filter any client has subscribed, at QoS 0 with retain 1, to a client
    that subscribed to nothing, even for filters whose clients have gone (the filter stays behind). A
    client that then subscribes gets them a second time (QoS 1)."""
    node, other = Client(broker, "node"), Client(broker, "other")
    try:
        node.publish("retain3/state", b"{}", retain=True)
        other.subscribe("retain3/#")
        other.wait_received(lambda got: any(m.topic == "retain3/state" for m in got))
        stranger = Client(broker, "stranger")  # subscribes to nothing
        try:
            stranger.wait_received(lambda got: any(m.topic == "retain3/state" for m in got))
            (message,) = [m for m in stranger.received if m.topic == "retain3/state"]
            assert (message.retain, message.qos) == (True, 0)
        finally:
            stranger.close()
    finally:
        node.close()
        other.close()
