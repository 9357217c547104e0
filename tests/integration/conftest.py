"""Real brokers for the integration tests: the embedded amqtt broker and, by the same fixture,
Mosquitto. Each test gets a fresh broker on a free loopback port, stopped afterwards."""

import socket
import textwrap

import pytest

from tests.helpers import PY, Child, free_port, require_tool, wait_until


class Broker:
    def __init__(self, kind, child, port):
        self.kind = kind
        self.child = child
        self.host = "127.0.0.1"
        self.port = port
        self.addr = "127.0.0.1:%d" % port


def _start_amqtt():
    port = free_port()
    child = Child([PY, "-m", "broker", "--port", str(port)])
    child.wait_line("listening", 20)
    return Broker("amqtt", child, port)


def _start_mosquitto(tmp_path):
    exe = require_tool("mosquitto")
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(textwrap.dedent("""\
        listener %d 127.0.0.1
        allow_anonymous true
        set_tcp_nodelay true
        persistence false
        log_dest stdout
        log_type error
        log_type warning
        """ % port))
    child = Child([exe, "-c", str(conf)])

    def accepting():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            return False

    wait_until(accepting, 10, "mosquitto to listen on port %d" % port)
    return Broker("mosquitto", child, port)


@pytest.fixture(params=["amqtt", "mosquitto"])
def broker(request, tmp_path):
    b = _start_amqtt() if request.param == "amqtt" else _start_mosquitto(tmp_path)
    yield b
    b.child.stop()


@pytest.fixture
def amqtt_broker():
    b = _start_amqtt()
    yield b
    b.child.stop()
