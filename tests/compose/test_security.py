"""The compose stack's refusals (issue 11), against its Mosquitto on the TLS port with the stack's users
and per-device ACL (docker/stack_secrets.py made them): nobody gets in without a password, a node can
speak only for itself, and plain MQTT on the TLS port fails cleanly. That the tests' monitor user sees
the node and commands it is what test_stack.py does throughout.

Mosquitto grants the SUBACK of a subscription its ACL forbids and filters at delivery, and acknowledges
a publish it drops: so each "not delivered" is proven by a marker that the same client publishes after
the forbidden messages, on a topic the receiver may read. Once the marker is there, whatever came before
it from that client has been delivered or dropped (Mosquitto handles one connection's packets in order,
and sends to one subscriber in order).

Nothing here reaches the monitor's recording (it records `pico/+/#`) unless a refusal fails: the markers
are on `homeassistant/...`, and the one command is a `get`, acked by the node like any other.
"""

import json
import os
import subprocess
import sys
import uuid

from tests.broker.secure import Client
from tests.helpers import wait_until

WAIT_S = 10
NODE_TOPICS = ("status", "state", "event", "ack")


def client(stack, user, password=None, tls=True):
    """A paho client of tests/broker/secure.py logged in as `user` (its password from the secrets volume
    unless given) on the stack's TLS port, or speaking plain MQTT to it with tls=False."""
    if user is not None and password is None:
        password = stack.password(user)
    return Client(stack.port, user, stack.tls_ca if tls else None, stack.host, password)


def token():
    return uuid.uuid4().hex[:12]


def test_anonymous_and_wrong_passwords_are_refused(stack):
    for user, password in ((None, None), (stack.user, "not-the-password"), (stack.device, "not-the-password"),
                           ("nobody-" + token(), "not-the-password")):
        c = client(stack, user, password)
        try:
            rc = c.connect()
            assert rc is not None and rc.is_failure, "%s was let in: %s" % (user or "anonymous", rc)
            assert rc.value in (4, 5, 134, 135), rc   # bad user name or password / not authorized
        finally:
            c.close()
    # The same port, with the right password, lets the tests' user in: the refusals are the passwords'.
    c = client(stack, stack.user).connected()
    c.close()


def test_a_node_cannot_speak_for_another_node_nor_command_any(stack):
    mark = token()
    watcher = client(stack, stack.user).connected()
    other = client(stack, stack.other_node).connected()
    try:
        assert watcher.subscribe("pico/#")
        marker_topic = "homeassistant/device/%s/config" % stack.other_node   # the other node's own, unrecorded
        assert watcher.subscribe(marker_topic)
        forged = ["pico/%s/%s" % (stack.device, kind) for kind in NODE_TOPICS]
        # No node may command anyone: not the stack's node, not itself, not a node that does not exist.
        forged += ["pico/%s/cmd" % name for name in (stack.device, stack.other_node, "nobody-" + mark)]
        for topic in forged:
            other.publish(topic, json.dumps({"id": "forged-" + mark, "led": "on", "online": False}))
        other.publish(marker_topic, "marker-" + mark)
        watcher.wait_for(marker_topic, ("marker-" + mark).encode())
        leaked = [m for m in watcher.got() if mark.encode() in m[1] and m[0] != marker_topic]
        assert not leaked, "the broker delivered what %s may not publish: %s" % (stack.other_node, leaked)
        assert not [m for m in watcher.got("pico/%s/ack" % stack.device) if b"forged-" + mark.encode() in m[1]]
    finally:
        other.close()
        watcher.close()


def test_a_node_cannot_receive_another_nodes_commands(stack):
    mark = token()
    other = client(stack, stack.other_node).connected()
    hass = client(stack, stack.hass).connected()
    try:
        # Granted by Mosquitto (it filters at delivery), or refused: either way nothing may arrive.
        for topic in ("pico/%s/cmd" % stack.device, "pico/+/cmd", "pico/#", "#"):
            other.subscribe(topic)
        assert other.subscribe("homeassistant/status")   # every node reads it: where the marker goes
        assert hass.subscribe("pico/%s/ack" % stack.device)
        command = {"id": "sec-%s" % mark, "get": True}
        hass.publish("pico/%s/cmd" % stack.device, json.dumps(command))
        hass.publish("homeassistant/status", "marker-" + mark)   # not "online": the node ignores it
        other.wait_for("homeassistant/status", ("marker-" + mark).encode())
        # The command was delivered to the node it was for: it answered it.
        acks = wait_until(lambda: [json.loads(m[1]) for m in hass.got("pico/%s/ack" % stack.device)
                                   if json.loads(m[1]).get("id") == command["id"]], WAIT_S, "the node's ack")
        assert acks[0]["ok"] is True, acks
        leaked = [m for m in other.got() if m[0].startswith("pico/")]
        assert not leaked, "%s received %s's traffic: %s" % (stack.other_node, stack.device, leaked)
    finally:
        hass.close()
        other.close()


def test_plain_mqtt_to_the_tls_port_fails_cleanly(stack):
    c = client(stack, stack.user, tls=False)
    try:
        assert c.connect() is None and c.closed, "plain MQTT got a CONNACK on the TLS port"
    finally:
        c.close()
    # The monitor says so in one line, and exits 1.
    env = dict(os.environ, PICO_MQTT_PASSWORD=stack.password(stack.user))
    out = subprocess.run([sys.executable, "-m", "monitor", "send", stack.device, "--get", "--broker", stack.broker,
                          "--user", stack.user, "--timeout", "5"], capture_output=True, text=True, timeout=30,
                         env=env, stdin=subprocess.DEVNULL)
    assert out.returncode == 1, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("monitor") and "is it a TLS port?" in lines[0], out.stderr
    assert out.stdout == ""
