"""Secure brokers for tests: users and certificates made with `python -m broker user add` and `certs`,
then amqtt (`python -m broker --users --tls`) or Mosquitto (the shipped broker/mosquitto-secure.conf with
its paths and ports pointed at a temp folder), on loopback; and a small paho client that logs in.

Users: nodes `pico-a`, `pico-b`, monitor `laptop`, Home Assistant `hass`. The server certificate is for
127.0.0.1 only, so `localhost` is a wrong host name; `other/ca.pem` is a CA the broker does not use.
"""

import contextlib
import os
import pwd
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from tests.helpers import PY, Child, free_port, require_tool, wait_until

ROOT = Path(__file__).resolve().parents[2]
PASSWORDS = {"pico-a": "pico-a-secret", "pico-b": "pico-b-secret", "laptop": "laptop-secret",
             "hass": "hass-secret"}
ROLE_FLAGS = {"pico-a": [], "pico-b": [], "laptop": ["--monitor"], "hass": ["--homeassistant"]}
WAIT_S = 10


def run_cli(program, *args, password=None, cwd=None, timeout=60):
    """`python -m PROGRAM ARGS` to its end, its password (if any) in PICO_MQTT_PASSWORD and nowhere else."""
    env = dict(os.environ)
    env.pop("PICO_MQTT_PASSWORD", None)
    if password is not None:
        env["PICO_MQTT_PASSWORD"] = password
    return subprocess.run([PY, "-m", program, *args], cwd=cwd or ROOT, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout)


def run_broker_cli(*args, password=None, cwd=None):
    return run_cli("broker", *args, password=password, cwd=cwd)


def make_setup(folder):
    """Users and certificates in `folder`, made with the broker's own CLI."""
    folder = Path(folder)
    for name, password in PASSWORDS.items():
        done = run_broker_cli("user", "add", str(folder / "users"), name, *ROLE_FLAGS[name], password=password)
        assert done.returncode == 0, done.stderr
    for where in ("certs", "other"):
        done = run_broker_cli("certs", str(folder / where), "--host", "127.0.0.1")
        assert done.returncode == 0, done.stderr
    return folder


@contextlib.contextmanager
def secure_setup():
    """A folder with the users and certificates (make_setup), removed afterwards. Not pytest's tmp_path:
    its parents are 0700, and Mosquitto run as root reads its files as user `mosquitto`."""
    folder = tempfile.mkdtemp(prefix="picostate-secure-")
    os.chmod(folder, 0o755)
    try:
        yield make_setup(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def setup():
    """The users and certificates, for one test module (import it, with `broker`, into the module)."""
    with secure_setup() as folder:
        yield folder


@pytest.fixture(params=["amqtt", "mosquitto"])
def broker(request, setup):
    """A fresh secure broker of each kind for each test: the tests' retained statuses, states and commands
    (pico-a's, pico-b's) never meet the next test. The users and certificates (`setup`, slow to make)
    are shared by the module."""
    with running(request.param, setup) as server:
        yield server


@contextlib.contextmanager
def running(kind, setup):
    """A SecureBroker of `kind` ("amqtt" or "mosquitto") on `setup`, stopped afterwards."""
    server = SecureBroker(kind, setup).start()
    try:
        yield server
    finally:
        server.stop()


def accepting(port):
    import socket
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


class SecureBroker:
    """amqtt or Mosquitto with the users, ACL and TLS of `setup`: `plain` and `tls` are its ports."""

    def __init__(self, kind, setup):
        self.kind, self.setup = kind, Path(setup)
        self.plain, self.tls = free_port(), free_port()
        self.child = None

    def start(self):
        s = self.setup
        if self.kind == "amqtt":
            self.child = Child([PY, "-m", "broker", "--users", str(s / "users"), "--port", str(self.plain),
                                "--tls", str(s / "certs/server.pem"), str(s / "certs/server.key"),
                                "--tls-port", str(self.tls)], cwd=ROOT)
            self.child.wait_line("listening", WAIT_S)
        else:
            exe = require_tool("mosquitto")
            etc = s / ("etc-%d" % self.plain)    # stands for /etc/picostate
            etc.mkdir()
            for src in ("mosquitto.passwd", "mosquitto.acl", "certs/server.pem", "certs/server.key"):
                shutil.copy(s / src, etc / Path(src).name)
            if os.geteuid() == 0:   # Mosquitto started as root reads its files as user `mosquitto`
                owner = pwd.getpwnam("mosquitto")
                for path in (etc, *etc.iterdir()):
                    os.chown(path, owner.pw_uid, owner.pw_gid)
            conf = (ROOT / "broker/mosquitto-secure.conf").read_text()
            assert "listener 1883 127.0.0.1\n" in conf and "listener 8883\n" in conf
            conf = (conf.replace("/etc/picostate/", "%s/" % etc)
                    .replace("listener 1883 127.0.0.1\n", "listener %d 127.0.0.1\n" % self.plain)
                    .replace("listener 8883\n", "listener %d 127.0.0.1\n" % self.tls))
            (etc / "mosquitto.conf").write_text(conf + "log_dest stdout\n")
            self.child = Child([exe, "-c", str(etc / "mosquitto.conf")])
            wait_until(lambda: (accepting(self.plain) and accepting(self.tls)) or self._died(), WAIT_S,
                       "mosquitto to listen")
        return self

    def _died(self):
        if self.child.p.poll() is not None:
            raise AssertionError("mosquitto ended:\n" + self.child.output())
        return False

    def stop(self):
        if self.child is not None:
            self.child.stop()
            self.child = None


class Client:
    """A paho client (MQTT 3.1.1) that logs in as `user`; what it receives is kept in `messages`."""

    def __init__(self, port, user=None, tls_ca=None, host="127.0.0.1", password=None):
        self.port, self.host = port, host
        self.messages = []
        self.lock = threading.Lock()
        self.rc = None
        self.subacks = {}
        self.closed = False
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="t-%s-%d" % (user, time.monotonic_ns() % 10**9),
                        protocol=mqtt.MQTTv311)
        if user is not None:
            c.username_pw_set(user, PASSWORDS.get(user, "") if password is None else password)
        if tls_ca is not None:
            c.tls_set_context(ssl.create_default_context(cafile=str(tls_ca)))
        c.on_connect = self._on_connect
        c.on_message = self._on_message
        c.on_subscribe = self._on_subscribe
        c.on_disconnect = self._on_disconnect
        self.c = c

    def _on_connect(self, c, userdata, flags, rc, props):
        self.rc = rc

    def _on_disconnect(self, c, userdata, flags, rc, props):
        self.closed = True

    def _on_message(self, c, userdata, m):
        with self.lock:
            self.messages.append((m.topic, bytes(m.payload), bool(m.retain)))

    def _on_subscribe(self, c, userdata, mid, codes, props):
        self.subacks[mid] = codes

    def connect(self):
        """The CONNACK's reason code, or None when the connection closed without one (bounded)."""
        self.c.connect_timeout = 5
        self.c.connect(self.host, self.port, keepalive=30)
        self.c.loop_start()
        wait_until(lambda: self.rc is not None or self.closed, WAIT_S, "a CONNACK or a close")
        return self.rc

    def connected(self):
        rc = self.connect()
        assert rc is not None and not rc.is_failure, "refused: %s" % rc
        return self

    def subscribe(self, topic, qos=1):
        """Wait for the SUBACK; whether the broker granted it."""
        result, mid = self.c.subscribe(topic, qos)
        assert result == mqtt.MQTT_ERR_SUCCESS
        codes = wait_until(lambda: self.subacks.get(mid), WAIT_S, "the SUBACK for %s" % topic)
        return not codes[0].is_failure

    def publish(self, topic, payload, retain=False):
        """QoS 1, waiting for the PUBACK (a broker acknowledges a publish its ACL drops, too)."""
        info = self.c.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(WAIT_S)
        assert info.is_published(), "no PUBACK for %s" % topic

    def got(self, topic=None, payload=None):
        with self.lock:
            return [m for m in self.messages if (topic is None or m[0] == topic)
                    and (payload is None or m[1] == payload)]

    def wait_for(self, topic, payload):
        return wait_until(lambda: self.got(topic, payload), WAIT_S, "%r on %s" % (payload, topic))

    def close(self):
        try:
            self.c.disconnect()
        finally:
            self.c.loop_stop()
