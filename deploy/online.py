"""Waiting, bounded, until the freshly reset node reports itself: its retained `pico/<id>/status`
online with a `boot` not seen before the reset (read from the broker with paho, when the laptop
can reach it), or its console's `mqtt: connected` line. The console also tells why it does not
come: the Wi-Fi failed, the broker cannot be reached from the board, or main.py ended.
"""

import json
import queue
import threading
import time

from deploy import nodelog
from deploy.console import Console
from deploy.errors import DeployError

SUBSCRIBE_S = 3.0          # for the broker to acknowledge the subscription
RETAINED_SETTLE_S = 0.3    # retained messages follow the SUBACK at once
HEAP_GRACE_S = 2.5         # the logger prints the free heap every second
BROKER_FAILURES = 2        # a first failure may be the board's network still settling


class StatusWatch:
    """A paho subscription to every node's status, started before deploy touches the board (so
    that nothing here delays a watchdog feed there). `old_boots` are the (id, boot) pairs the
    broker had retained: the firmware that was running. `events` gets (id, payload) for each
    status online with a boot not among them."""

    def __init__(self, host, port, user=None, password=None, ca_der=None):
        import paho.mqtt.client as mqtt

        self.old_boots = set()
        self.events = queue.Queue()
        self.error = None
        self._subscribed = threading.Event()
        self._settled = False
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                   client_id=f"deploy-{time.monotonic_ns() % 10**9}")
        if user is not None:
            self._client.username_pw_set(user, password)
        if ca_der is not None:
            import ssl

            context = ssl.create_default_context()  # verifies the certificate and the host name
            context.load_verify_locations(cadata=ca_der)
            self._client.tls_set_context(context)
        self._client.on_connect = lambda c, u, f, rc, p: (
            c.subscribe("pico/+/status", qos=1) if not rc.is_failure else None)
        self._client.on_subscribe = lambda *a: self._subscribed.set()
        self._client.on_message = self._message
        self._client.connect_timeout = 3.0
        try:
            self._client.connect(host, port, keepalive=30)
        except (OSError, ValueError) as e:
            self.error = f"the laptop cannot reach the broker at {host}:{port} either ({e})"
            return
        self._client.loop_start()
        if not self._subscribed.wait(SUBSCRIBE_S):
            self.error = f"the broker at {host}:{port} did not answer the laptop's subscription"
            self.close()
            return
        time.sleep(RETAINED_SETTLE_S)
        self._settled = True

    def _message(self, client, userdata, msg):
        try:
            payload = json.loads(msg.payload)
        except ValueError:
            return
        if not isinstance(payload, dict):
            return
        device = msg.topic.split("/")[1]
        if not self._settled:
            self.old_boots.add((device, payload.get("boot")))
        elif payload.get("online") is True and (device, payload.get("boot")) not in self.old_boots:
            self.events.put((device, payload))

    def close(self):
        try:
            self._client.loop_stop()
            self._client.disconnect()
        except Exception:  # closing a client that never connected: nothing to release
            pass


class Result:
    def __init__(self):
        self.device_id = None
        self.boot = None
        self.fw = None
        self.heap = None
        self.online = False


def wait(port, device_id, watch, timeout):
    """Follow the console (and `watch`, a StatusWatch or None) until the node is online; its
    Result. The Console stays open and is returned with it for --logs. Raises DeployError."""
    lines = queue.Queue()
    console = Console(port, lines.put).start()
    result = Result()
    deadline = time.monotonic() + timeout
    started = False            # the node has printed its first log line
    last_error = None
    broker_failures = 0
    online_at = None
    try:
        while True:
            now = time.monotonic()
            if online_at is not None and (result.heap is not None or now > online_at + HEAP_GRACE_S):
                return result, console
            if now > deadline:
                if online_at is not None:
                    return result, console
                seen = "" if started else (" and it printed nothing on its console"
                                           if console.opened.is_set() else
                                           f" and {port} did not come back after the reset")
                raise DeployError("wait", f"the node did not report itself within {timeout:g} s{seen}")
            if watch is not None and watch.error is None:
                try:
                    device, status = watch.events.get_nowait()
                except queue.Empty:
                    pass
                else:
                    if device != device_id:
                        continue
                    result.online = True
                    result.device_id = status.get("id") or device_id
                    result.boot = status.get("boot")
                    result.fw = status.get("fw") or result.fw
                    online_at = online_at or time.monotonic()
            try:
                line = lines.get(timeout=0.05)
            except queue.Empty:
                continue
            if line.startswith("Traceback (most recent call last)"):
                started = True     # an exception out of main.py, maybe before any log line
            found = nodelog.classify(line)
            if found is None:
                continue
            kind, f = found
            if kind in ("boot", "online", "heap", "wifi_failed", "broker_failed"):
                started = True
            if kind == "boot":
                result.device_id, result.boot, result.fw, result.heap = f["id"], f["boot"], f["fw"], f["heap"]
            elif kind == "heap":
                result.heap = f["heap"]
                if f["mqtt"] == "up" and online_at is None:
                    result.online = True
                    online_at = time.monotonic()
            elif kind == "online":
                result.online = True
                result.device_id = result.device_id or f["id"]
                online_at = online_at or time.monotonic()
            elif kind == "wifi_failed" and online_at is None:
                raise DeployError("wait", f"the board's Wi-Fi failed: {f['reason']} (check --wifi "
                                          "and PICO_WIFI_PASSWORD); the node keeps retrying")
            elif kind == "broker_failed" and online_at is None:
                broker_failures += 1
                if broker_failures >= BROKER_FAILURES:
                    raise DeployError("wait", f"the board cannot reach the broker at {f['broker']}: "
                                              f"{f['reason']} (is it running, and listening on the "
                                              "board's network?); the node keeps retrying")
            elif kind == "error":
                last_error = f["reason"]
            elif kind == "stopped" and started and online_at is None:
                raise DeployError("wait", "the node stopped" + (f": {last_error}" if last_error else ""))
    except BaseException:
        console.close()
        raise
