"""The `node` service's health check: healthy (exit 0) when the broker holds the node's retained status
and it says online, i.e. the node has connected and published it and has not gone away since (its Last
Will, or its goodbye, would have replaced it). Reads PICO_BROKER (HOST:PORT) and PICO_DEVICE.

    python docker/node_health.py [--timeout SECONDS]
"""

import json
import os
import sys
import threading

import paho.mqtt.client as mqtt


def main(argv):
    timeout = float(argv[argv.index("--timeout") + 1]) if "--timeout" in argv else 3.0
    host, _, port = os.environ["PICO_BROKER"].rpartition(":")
    topic = "pico/%s/status" % os.environ["PICO_DEVICE"]
    got = threading.Event()
    status = {}

    def on_connect(client, userdata, flags, reason, properties):
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
        client.connect(host, int(port), keepalive=10)
    except OSError as exc:
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
    if status.get("online") is not True:
        print("%s says %s" % (topic, status))
        return 1
    print("online: %s" % status)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
