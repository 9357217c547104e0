"""The monitor with users and TLS, on amqtt and Mosquitto: `send` and `record` log in with `--user`
(password from PICO_MQTT_PASSWORD) and `--tls-ca`, and every refusal is one `monitor: ...` line, exit 1.
The brokers and users are tests/broker's (secure.py); a paho client logged in as node `pico-a` answers."""

import json

import pytest

from monitor.live.session import Session
from monitor.mqtt import Security
from tests.broker.secure import PASSWORDS, Client, broker, run_cli, setup  # noqa: F401  (fixtures)


def monitor(*args, password=None, timeout=30):
    return run_cli("monitor", *args, password=password, timeout=timeout)


@pytest.fixture
def node(broker):
    """Node pico-a on the TLS port, acking every command it gets (ok, ver 1)."""
    client = Client(broker.tls, "pico-a", tls_ca=broker.setup / "certs/ca.pem").connected()

    def answer(c, userdata, message):
        body = json.loads(message.payload)
        c.publish("pico/pico-a/ack", json.dumps({"id": body.get("id"), "ok": True, "ver": 1}), qos=1)

    client.c.message_callback_add("pico/pico-a/cmd", answer)
    assert client.subscribe("pico/pico-a/cmd")
    yield client
    client.close()


def test_send_and_record_log_in_over_tls(broker, node, tmp_path):
    ca = str(broker.setup / "certs/ca.pem")
    tls = f"127.0.0.1:{broker.tls}"
    done = monitor("send", "pico-a", "--led", "on", "--broker", tls, "--user", "laptop", "--tls-ca", ca,
                   password=PASSWORDS["laptop"])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ok"] is True and "monitor: ack from pico-a" in done.stderr

    node.publish("pico/pico-a/status", b'{"online": true}', retain=True)
    out = tmp_path / "rec.jsonl"
    done = monitor("record", "--for", "1.5", "--out", str(out), "--broker", tls, "--user", "laptop",
                   "--tls-ca", ca, password=PASSWORDS["laptop"])
    assert done.returncode == 0, done.stderr
    topics = [json.loads(line).get("topic") for line in out.read_text().splitlines()]
    assert "pico/pico-a/status" in topics
    node.publish("pico/pico-a/status", b"", retain=True)


@pytest.mark.parametrize("how, words", [
    ("anonymous", "refused the connection: Not authorized (no user given: --user)"),
    ("wrong password", "refused the connection"),
    ("wrong CA", "is not trusted by the CA given with --tls-ca"),
    ("wrong host name", "is not for 'localhost'"),
    ("plain to the TLS port", "closed the connection before answering: is it a TLS port?"),
    ("TLS to the plain port", "TLS"),
])
def test_refusals_are_one_line_and_exit_1(broker, how, words, tmp_path):
    s = broker.setup
    args = {"anonymous": ["--broker", f"127.0.0.1:{broker.plain}"],
            "wrong password": ["--broker", f"127.0.0.1:{broker.plain}", "--user", "laptop"],
            "wrong CA": ["--broker", f"127.0.0.1:{broker.tls}", "--user", "laptop", "--tls-ca", str(s / "other/ca.pem")],
            "wrong host name": ["--broker", f"localhost:{broker.tls}", "--user", "laptop",
                                "--tls-ca", str(s / "certs/ca.pem")],
            "plain to the TLS port": ["--broker", f"127.0.0.1:{broker.tls}", "--user", "laptop"],
            "TLS to the plain port": ["--broker", f"127.0.0.1:{broker.plain}", "--user", "laptop",
                                      "--tls-ca", str(s / "certs/ca.pem")]}[how]
    password = "not-the-password" if how == "wrong password" else PASSWORDS["laptop"]
    commands = [["send", "pico-a", "--get", *args]]
    if how in ("wrong password", "plain to the TLS port"):
        commands.append(["record", "--for", "5", "--out", str(tmp_path / "x.jsonl"), *args])
    for command in commands:
        done = monitor(*command, password=password)
        assert done.returncode == 1, (command, done.stderr)
        assert done.stderr.startswith("monitor: ") and done.stderr.count("\n") == 1, done.stderr
        assert words in done.stderr and "Traceback" not in done.stderr
        assert password not in done.stderr + done.stdout
    assert not (tmp_path / "x.jsonl").exists()


def test_user_needs_a_password_and_a_readable_ca(broker):
    done = monitor("send", "pico-a", "--get", "--broker", f"127.0.0.1:{broker.plain}", "--user", "laptop")
    assert done.returncode == 2 and "PICO_MQTT_PASSWORD" in done.stderr and done.stderr.count("\n") == 1
    done = monitor("send", "pico-a", "--get", "--tls-ca", "/no/such/ca.pem", password="x")
    assert done.returncode == 2 and "cannot read /no/such/ca.pem" in done.stderr


def test_the_receivers_command_line_holds_no_password(tmp_path):
    session = Session(tmp_path / "r.jsonl", "127.0.0.1:1", security=Security("laptop", "s3cret-pw", "ca.pem"))
    assert session.config["user"] == "laptop" and session.config["tls_ca"] == "ca.pem"
    assert "s3cret-pw" not in json.dumps(session.config)
