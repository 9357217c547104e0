"""`python -m broker` says who connects, who is refused and why each client left, and a port that is
taken is one line and exit 2 (issue 13: a system Mosquitto on 1883 is common)."""

import socket

import paho.mqtt.client as mqtt

from tests.broker.secure import PASSWORDS, ROOT, Client, run_broker_cli, running
from tests.helpers import PY, Child, free_port, wait_until


def test_a_taken_port_is_one_line_and_exit_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_broker_cli("--port", str(port))
    assert done.returncode == 2, done
    assert done.stderr == "broker: port %d on 127.0.0.1 is in use (try --port %d)\n" % (port, port + 1)
    assert done.stdout == ""


def test_a_port_out_of_range_is_one_line_and_exit_2():
    done = run_broker_cli("--port", "99999")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "usage" not in done.stderr, done
    assert done.stderr.startswith("broker: ") and "1 to 65535" in done.stderr


def test_each_client_is_a_line_as_it_comes_and_goes():
    port = free_port()
    broker = Child([PY, "-m", "broker", "--port", str(port)], cwd=ROOT)
    try:
        broker.wait_line("listening", 15)
        polite = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="polite-1", protocol=mqtt.MQTTv311)
        polite.connect("127.0.0.1", port)
        polite.loop_start()
        broker.wait_line("+ polite-1 from 127.0.0.1:", 10)
        polite.disconnect()
        polite.loop_stop()
        broker.wait_line("- polite-1 from 127.0.0.1:", 10)
        assert [line for line in broker.lines if "- polite-1" in line][0].rstrip().endswith(": disconnected")

        rude = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="rude-1", protocol=mqtt.MQTTv311)
        rude.will_set("pico/rude-1/status", b"gone", qos=1, retain=True)
        rude.connect("127.0.0.1", port)
        rude.loop_start()
        broker.wait_line("+ rude-1 from", 10)
        rude.loop_stop()
        rude.socket().close()           # no DISCONNECT: the connection is simply lost
        broker.wait_line("- rude-1 from", 10)
        line = [line for line in broker.lines if "- rude-1" in line][0]
        assert line.rstrip().endswith(": connection lost (its Last Will published)"), line
    finally:
        broker.stop()


def test_a_refused_login_is_a_line_with_the_user():
    from tests.broker.secure import secure_setup

    with secure_setup() as folder, running("amqtt", folder) as server:
        wrong = Client(server.plain, "pico-a", password="not-" + PASSWORDS["pico-a"])
        assert wrong.connect().is_failure
        wait_until(lambda: any("refused" in line and "(user pico-a)" in line for line in server.child.lines), 10,
                   "the broker's line about the refused login")
        right = Client(server.plain, "pico-a").connected()
        wait_until(lambda: any(line.startswith("broker: + ") and "(user pico-a)" in line
                               for line in server.child.lines), 10, "the broker's line about the login")
        right.close()
        wrong.close()
        assert not any(PASSWORDS["pico-a"] in line for line in server.child.lines)
