"""`devices` and `forget` with users and TLS, on amqtt and Mosquitto (tests/broker's secure brokers): the
monitor's user reads every node's retained messages, but its ACL lets it publish only commands and the
device discovery config, so `forget` clears what it may and says, in one line each, what the broker kept."""

from tests.broker.secure import PASSWORDS, Client, broker, run_cli, setup  # noqa: F401  (fixtures)


def monitor(*args, password=None, timeout=30):
    return run_cli("monitor", *args, password=password, timeout=timeout)


def test_devices_and_forget_log_in_and_say_what_the_acl_kept(broker):
    ca = str(broker.setup / "certs/ca.pem")
    node = Client(broker.tls, "pico-a", tls_ca=broker.setup / "certs/ca.pem").connected()
    try:
        node.publish("pico/pico-a/status", b'{"online": false, "boot": "0000000a", "sess": 1}', retain=True)
        node.publish("homeassistant/device/pico-a/config", b'{"dev": {}}', retain=True)
    finally:
        node.close()
    login = ["--broker", f"127.0.0.1:{broker.tls}", "--user", "laptop", "--tls-ca", ca]

    done = monitor("devices", *login, password=PASSWORDS["laptop"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1].split() == ["pico-a", "offline", "0000000a", "1"]

    done = monitor("forget", "pico-a", *login, password=PASSWORDS["laptop"])
    assert done.returncode == 1, done.stderr
    assert done.stdout == "cleared homeassistant/device/pico-a/config\n"
    assert done.stderr.splitlines() == [
        "monitor: the broker kept pico/pico-a/status (does its ACL let this user publish there?)",
        "monitor: forgot pico-a: 1 retained message cleared, 1 kept"]
