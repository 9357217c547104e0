"""Who may talk to a node, on amqtt and on Mosquitto alike (real brokers, real paho clients, loopback).

Every "never received" is asserted after a marker that was sent after it, by the same client, was
received: a broker keeps one client's messages in order, so the marker proves the earlier ones were
dropped, not late. (Mosquitto grants a forbidden subscription and filters at delivery; amqtt refuses it.)
"""

import ssl

import pytest

from tests.broker.secure import Client


def test_anonymous_and_wrong_password_are_refused(broker):
    for client in (Client(broker.plain), Client(broker.plain, "pico-a", password="not-the-password"),
                   Client(broker.plain, "nobody", password="whatever-it-is")):
        try:
            rc = client.connect()
            assert rc is not None and rc.is_failure, rc
            assert rc.value in (4, 5, 134, 135)   # bad user name or password / not authorized
        finally:
            client.close()


def test_a_node_cannot_publish_as_another_node_nor_any_command(broker):
    watcher = Client(broker.plain, "laptop").connected()
    a = Client(broker.plain, "pico-a").connected()
    try:
        assert watcher.subscribe("pico/#")
        forged = ["pico/pico-b/state", "pico/pico-b/status", "pico/pico-b/ack", "pico/pico-b/event",
                  "pico/pico-a/cmd", "pico/pico-b/cmd", "homeassistant/device/pico-b/config",
                  "homeassistant/status", "pico/pico-a", "elsewhere/topic"]
        for topic in forged:
            a.publish(topic, b"forged")
        a.publish("pico/pico-a/state", b"marker")
        watcher.wait_for("pico/pico-a/state", b"marker")
        assert watcher.got(payload=b"forged") == []
    finally:
        a.close()
        watcher.close()


def test_a_node_receives_neither_live_nor_retained_commands_of_another(broker):
    monitor = Client(broker.plain, "laptop").connected()
    try:
        assert monitor.subscribe("pico/+/#")   # amqtt replays this filter's retained messages to everyone
        monitor.publish("pico/pico-b/cmd", b"retained-for-b", retain=True)
        monitor.publish("pico/pico-b/state", b"retained-state-of-b", retain=True)
        monitor.publish("pico/pico-a/cmd", b"retained-for-a", retain=True)
        a = Client(broker.plain, "pico-a").connected()
        try:
            a.subscribe("pico/pico-b/cmd")
            a.subscribe("pico/+/cmd")
            a.subscribe("pico/#")
            assert a.subscribe("pico/pico-a/cmd")
            a.wait_for("pico/pico-a/cmd", b"retained-for-a")     # the replay came, and only A's part
            monitor.publish("pico/pico-b/cmd", b"live-for-b")
            monitor.publish("pico/pico-a/cmd", b"marker")
            a.wait_for("pico/pico-a/cmd", b"marker")
            assert [m for m in a.got() if not m[0].startswith("pico/pico-a/")] == []
        finally:
            a.close()
    finally:
        monitor.publish("pico/pico-b/cmd", b"", retain=True)
        monitor.publish("pico/pico-a/cmd", b"", retain=True)
        monitor.close()


def test_a_monitor_sees_every_node_and_commands_them(broker):
    monitor = Client(broker.plain, "laptop").connected()
    a = Client(broker.plain, "pico-a").connected()
    b = Client(broker.plain, "pico-b").connected()
    try:
        assert monitor.subscribe("pico/+/#")
        assert a.subscribe("pico/pico-a/cmd") and b.subscribe("pico/pico-b/cmd")
        a.publish("pico/pico-a/state", b"a-state")
        b.publish("pico/pico-b/event", b"b-event")
        monitor.wait_for("pico/pico-a/state", b"a-state")
        monitor.wait_for("pico/pico-b/event", b"b-event")
        monitor.publish("pico/pico-a/cmd", b"to-a")
        monitor.publish("pico/pico-b/cmd", b"to-b")
        a.wait_for("pico/pico-a/cmd", b"to-a")
        b.wait_for("pico/pico-b/cmd", b"to-b")
        # a node's own discovery config, and Home Assistant's status, reach who may read them
        assert monitor.subscribe("homeassistant/#")
        a.publish("homeassistant/device/pico-a/config", b"{}")
        monitor.wait_for("homeassistant/device/pico-a/config", b"{}")
    finally:
        for c in (a, b, monitor):
            c.close()


def test_home_assistant_commands_and_says_its_status(broker):
    hass = Client(broker.plain, "hass").connected()
    a = Client(broker.plain, "pico-a").connected()
    try:
        assert hass.subscribe("pico/#")
        assert a.subscribe("pico/pico-a/cmd") and a.subscribe("homeassistant/status")
        hass.publish("homeassistant/status", b"online")
        hass.publish("pico/pico-a/cmd", b"from-hass")
        a.wait_for("homeassistant/status", b"online")
        a.wait_for("pico/pico-a/cmd", b"from-hass")
    finally:
        a.close()
        hass.close()


def test_tls_with_the_right_ca_logs_in(broker, setup):
    client = Client(broker.tls, "laptop", tls_ca=setup / "certs/ca.pem").connected()
    try:
        assert client.subscribe("pico/#")
    finally:
        client.close()


@pytest.mark.parametrize("ca, host, words", [
    ("other/ca.pem", "127.0.0.1", "unable to get local issuer certificate"),
    ("certs/ca.pem", "localhost", "mismatch"),
])
def test_tls_with_a_wrong_ca_or_host_name_is_refused(broker, setup, ca, host, words):
    client = Client(broker.tls, "laptop", tls_ca=setup / ca, host=host)
    with pytest.raises(ssl.SSLCertVerificationError) as caught:
        client.connect()
    assert words in str(caught.value)


def test_plain_mqtt_on_the_tls_port_fails_cleanly(broker):
    client = Client(broker.tls, "laptop")
    try:
        assert client.connect() is None    # closed, no CONNACK (bounded wait)
    finally:
        client.close()
    again = Client(broker.plain, "laptop").connected()   # and the broker carries on
    again.close()
