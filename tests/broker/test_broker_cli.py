"""`python -m broker user ...`, `certs`, and the refusals of `python -m broker` itself (processes, as typed)."""

import datetime
import os
import stat
import subprocess

from cryptography import x509

from tests.broker.secure import ROOT, run_broker_cli
from tests.helpers import PY, Child


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def one_line(text, *words):
    assert text.startswith("broker: ") and text.count("\n") == 1 and "Traceback" not in text, text
    for w in words:
        assert w in text, text


def test_user_add_list_remove(tmp_path):
    users = tmp_path / "users"
    done = run_broker_cli("user", "add", str(users), "pico-abc", password="pico-abc-pw")
    assert done.returncode == 0, done.stderr
    assert run_broker_cli("user", "add", str(users), "laptop", "--monitor", password="laptop-pw").returncode == 0
    assert run_broker_cli("user", "add", str(users), "hass", "--homeassistant", password="hass-pw-1").returncode == 0
    listed = run_broker_cli("user", "list", str(users))
    assert listed.stdout.split("\n") == ["hass homeassistant", "laptop monitor", "pico-abc node", ""]
    for path in (users, tmp_path / "mosquitto.passwd", tmp_path / "mosquitto.acl"):
        assert mode(path) == 0o600
        text = path.read_text()
        assert not any(pw in text for pw in ("pico-abc-pw", "laptop-pw", "hass-pw-1"))   # no password in any file
    lines = {line.split(":")[0]: line for line in users.read_text().splitlines() if not line.startswith("#")}
    assert set(lines) == {"pico-abc", "laptop", "hass"} and all("$argon2id$" in v for v in lines.values())
    mosq = (tmp_path / "mosquitto.passwd").read_text().splitlines()
    assert sorted(line.split(":")[0] for line in mosq) == ["hass", "laptop", "pico-abc"]
    assert all(line.split(":", 1)[1].startswith("$7$") for line in mosq)
    acl = (tmp_path / "mosquitto.acl").read_text()
    assert "pattern read pico/%u/cmd" in acl and "user laptop\ntopic read pico/#" in acl
    assert "pattern readwrite" not in acl and "user pico-abc" not in acl
    assert "pico-abc-pw" not in done.stdout + done.stderr

    assert run_broker_cli("user", "remove", str(users), "laptop").returncode == 0
    assert run_broker_cli("user", "list", str(users)).stdout.split() == ["hass", "homeassistant", "pico-abc", "node"]
    assert "laptop" not in (tmp_path / "mosquitto.passwd").read_text()
    assert "laptop" not in (tmp_path / "mosquitto.acl").read_text()


def test_user_refusals_change_nothing(tmp_path):
    users = tmp_path / "users"
    assert run_broker_cli("user", "add", str(users), "pico-abc", password="pico-abc-pw").returncode == 0
    before = users.read_text()
    cases = [
        (["user", "add", str(users), "pico/x"], "pico-x-pw", 2, "cannot contain '/'"),
        (["user", "add", str(users), "pico-x"], "short", 1, "at least 8"),
        (["user", "add", str(users), "pico-x"], None, 1, "PICO_MQTT_PASSWORD"),   # no terminal, no env
        (["user", "add", str(users), "pico-x", "--password", "pw-on-the-line"], "x" * 9, 2, "unrecognized"),
        (["user", "remove", str(users), "nobody"], None, 1, "no user 'nobody'"),
        (["user", "list", str(tmp_path / "missing")], None, 1, "no such users file"),
    ]
    for args, password, status, words in cases:
        done = run_broker_cli(*args, password=password)
        assert done.returncode == status, (args, done.stderr)
        one_line(done.stderr, words)
    assert users.read_text() == before


def test_user_add_asks_twice_at_a_terminal_without_echo(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PICO_MQTT_PASSWORD"}
    term = Child([PY, "-m", "broker", "user", "add", str(tmp_path / "users"), "pico-t"], terminal=(80, 24),
                 cwd=ROOT, env=env)
    try:
        term.wait_text("password for pico-t: ")
        term.write("typed-secret-1\n")
        term.wait_text("again: ")
        term.write("typed-secret-1\n")
        term.wait_text("mosquitto.acl")
        assert term.finish(15) == 0
    finally:
        term.kill()
    assert "typed-secret" not in term.text()
    assert "pico-t:$argon2id$" in (tmp_path / "users").read_text()


def test_certs_makes_a_ca_and_a_server_certificate_and_keeps_the_ca(tmp_path):
    folder = tmp_path / "certs"
    done = run_broker_cli("certs", str(folder), "--host", "broker.lan", "--host", "192.168.7.2")
    assert done.returncode == 0, done.stderr
    assert mode(folder / "ca.key") == 0o600 and mode(folder / "server.key") == 0o600
    ca = x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes())
    assert x509.load_der_x509_certificate((folder / "ca.der").read_bytes()) == ca
    server = x509.load_pem_x509_certificate((folder / "server.pem").read_bytes())
    server.verify_directly_issued_by(ca)
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["broker.lan"]
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["192.168.7.2"]
    now = datetime.datetime.now(datetime.timezone.utc)
    assert server.not_valid_before_utc < now - datetime.timedelta(minutes=50)
    assert server.public_key().curve.name == "secp256r1"

    again = run_broker_cli("certs", str(folder), "--host", "other.lan")
    assert again.returncode == 0 and "kept the CA" in again.stdout
    assert x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes()) == ca
    x509.load_pem_x509_certificate((folder / "server.pem").read_bytes()).verify_directly_issued_by(ca)

    bad = run_broker_cli("certs", str(tmp_path / "c2"), "--host", "no/such host")
    assert bad.returncode == 1
    one_line(bad.stderr, "not a host name")


def test_the_broker_refuses_a_network_address_without_users(tmp_path):
    for args, status, words in [
        (["--host", "0.0.0.0"], 2, "without --users"),
        (["--host", "192.168.7.2", "--port", "1"], 2, "without --users"),
        (["--users", str(tmp_path / "missing")], 1, "no such users file"),
        (["--users", str(tmp_path / "u"), "--allow-anonymous"], 2, "exclude each other"),
        (["--tls", str(tmp_path / "no.pem"), str(tmp_path / "no.key")], 1, "cannot read"),
    ]:
        done = subprocess.run([PY, "-m", "broker", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert done.returncode == status, (args, done.stderr)
        one_line(done.stderr, words)
        assert done.stdout == ""
