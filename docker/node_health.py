"""The `node` service's health check: healthy (exit 0) when the broker holds the node's retained status
and it says online, i.e. the node has connected and published it and has not gone away since (its Last
Will, or its goodbye, would have replaced it). Reads PICO_BROKER (HOST:PORT) and PICO_DEVICE.

    python docker/node_health.py [--timeout SECONDS] [--user NAME --password-file FILE] [--tls-ca FILE]

It logs in as NAME (a monitor: a node may not read another's status, nor its own) with the password read
from FILE, so that no password is on its command line, and speaks TLS, verifying the broker's
certificate against the CA in FILE for the host name in PICO_BROKER.
"""

import json
import os
import ssl
import sys
import threading

import paho.mqtt.client as mqtt


def option(argv, name, default=None):
    return argv[argv.index(name) + 1] if name in argv else default


def main(argv):
    timeout = float(option(argv, "--timeout", 3.0))
    user, password_file, tls_ca = option(argv, "--user"), option(argv, "--password-file"), option(argv, "--tls-ca")
    host, _, port = os.environ["PICO_BROKER"].rpartition(":")
    topic = "pico/%s/status" % os.environ["PICO_DEVICE"]
    got = threading.Event()
    status = {}

    def on_connect(client, userdata, flags, reason, properties):
        if reason.is_failure:
            status["error"] = "the broker refused the connection: %s" % reason
            got.set()
            return
        client.subscribe(topic, qos=1)

    def on_message(client, userdata, msg):
        try:
            status.update(json.loads(msg.payload))
        except ValueError:
            status["error"] = "not JSON: %r" % msg.payload[:80]
        got.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="", clean_session=True)
    client.on_connect = on_connect
    client.on_message = on_message
    try:
        if user is not None:
            with open(password_file) as f:
                client.username_pw_set(user, f.read().strip())
        if tls_ca is not None:
            client.tls_set_context(ssl.create_default_context(cafile=tls_ca))
        client.connect(host, int(port), keepalive=10)
    except (OSError, TypeError) as exc:   # TypeError: --user without --password-file
        print("broker %s:%s not reachable: %s" % (host, port, exc))
        return 1
    client.loop_start()
    try:
        if not got.wait(timeout):
            print("no retained %s within %.0f s" % (topic, timeout))
            return 1
    finally:
        client.disconnect()
        client.loop_stop()
    if "error" in status:
        print(status["error"])
        return 1
    if status.get("online") is not True:
        print("%s says %s" % (topic, status))
        return 1
    print("online: %s" % status)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
