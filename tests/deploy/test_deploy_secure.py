"""`python -m deploy --user ID --ca ca.pem` onto the virtual board's serial port, against the embedded
broker with users, the per-device ACL and TLS (tests/broker/secure.py): the node's password goes to the
board's secrets.py and nowhere else, the CA to the firmware's folder as DER, and the node comes online
over TLS and answers the monitor's command."""

import json

from tests.broker.secure import PASSWORDS, run_cli, running, setup  # noqa: F401  (fixture)
from tests.deploy.conftest import run_deploy


def test_deploy_with_user_and_ca_comes_online_over_tls(boards, mip_index, setup):  # noqa: F811
    with running("amqtt", setup) as broker:
        board = boards(env={"SIM_AP_PASSWORD": "pw-4711"})
        ca = setup / "certs/ca.pem"
        code, out, err = run_deploy("--port", board.port, "--broker", "127.0.0.1:%d" % broker.tls,
                                    "--index", str(mip_index), "--id", "pico-a", "--user", "pico-a",
                                    "--ca", str(ca), "--wifi", "sim-ap",
                                    env={"PICO_WIFI_PASSWORD": "pw-4711", "PICO_MQTT_PASSWORD": PASSWORDS["pico-a"]})
        assert code == 0, out + err
        assert "pico-a is online:" in out, out
        assert PASSWORDS["pico-a"] not in out + err
        tree = board.tree()
        assert tree["firmware/a/ca.der"][:1] == b"\x30"                   # DER: a SEQUENCE
        assert b"BROKER_CA = 'ca.der'" in tree["firmware/a/config_local.py"]
        assert b"BROKER_USER = 'pico-a'" in tree["firmware/a/config_local.py"]
        assert PASSWORDS["pico-a"].encode() in tree["firmware/a/secrets.py"]
        assert PASSWORDS["pico-a"].encode() not in tree["firmware/a/config_local.py"]
        assert f"--tls-ca {ca}" in out

        send = run_cli("monitor", "send", "pico-a", "--led", "on", "--broker", "127.0.0.1:%d" % broker.tls,
                       "--user", "laptop", "--tls-ca", str(ca), password=PASSWORDS["laptop"], timeout=30)
        assert send.returncode == 0, send.stdout + send.stderr
        assert json.loads(send.stdout.splitlines()[0])["ok"] is True
