"""`python -m monitor send ID --ha-forget`: an empty retained message on the device's discovery topic
(Home Assistant deletes the device; the broker forgets the retained config), said in one line."""

import subprocess
import time
from types import SimpleNamespace

import pytest

import discovery
from monitor.send import ha_discovery_topic
from tests.ha.ha_client import HAClient
from tests.helpers import PY, free_port
from tests.outage_harness import BrokerProcess


@pytest.fixture(params=["amqtt", "mosquitto"])
def broker(request, tmp_path):
    with BrokerProcess(request.param, tmp_path) as b:
        yield b


def monitor_send(*args, timeout=20):
    return subprocess.run([PY, "-m", "monitor", "send", *args], capture_output=True, text=True, timeout=timeout)


def retained(addr, topic, client_id):
    """What a newcomer gets on `topic`: the retained message, or None (a sentinel topic published after
    the subscription marks when the retained messages have all come)."""
    ha = HAClient(addr, client_id)
    try:
        ha.subscribe(topic)
        mark = "test/mark/%s" % client_id
        ha.subscribe(mark)
        ha.publish(mark, b"x", qos=1)
        ha.wait_for(mark, what="the mark")
        got = ha.seen(topic)
        return got[0].payload if got else None
    finally:
        ha.close()


@pytest.mark.parametrize("prefix", [None, "ha"])
def test_forget_clears_the_retained_discovery_and_says_so(broker, prefix):
    cfg = SimpleNamespace(FIRMWARE="0.1.0", TOPIC_PREFIX="pico", HA_DISCOVERY=True, HA_PREFIX=prefix or "homeassistant")
    topic, payload = discovery.messages(cfg, "desk")[0]
    ha = HAClient(broker.addr, "ha-live")
    ha.publish(topic.decode(), payload, qos=1, retain=True)          # what the node leaves on the broker
    assert retained(broker.addr, topic.decode(), "before") == payload
    ha.subscribe(topic.decode())
    start = time.monotonic()
    out = monitor_send("desk", "--ha-forget", "--broker", broker.addr, *(["--ha-prefix", prefix] if prefix else []))
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""
    assert out.stderr == "monitor: desk removed from Home Assistant: an empty retained message on %s\n" % topic.decode()
    ha.wait_for(topic.decode(), lambda m: m.payload == b"", after=start, what="the empty message, live")
    ha.close()
    assert retained(broker.addr, topic.decode(), "after") is None


def test_the_monitor_and_the_node_agree_on_the_topic_of_any_id():
    for device in ("desk", "pico-e6614103e7", "desk.1 \u00e9\U0001f600", "a_b-C"):
        cfg = SimpleNamespace(FIRMWARE="0.1.0", HA_DISCOVERY=True, HA_PREFIX="p")
        assert discovery.topic(cfg, device).decode() == ha_discovery_topic(device, "p")


@pytest.mark.parametrize(("args", "message"), [
    (["--ha-forget", "--led", "on"], "--ha-forget cannot be combined"),
    (["--ha-forget", "--raw", "{}"], "--ha-forget cannot be combined"),
    (["--led", "on", "--ha-prefix", "ha"], "--ha-prefix goes with --ha-forget"),
    (["--ha-forget", "--ha-prefix", "home/#"], "not a discovery prefix"),
])
def test_usage_errors_say_what_is_wrong_and_send_nothing(args, message):
    out = monitor_send("desk", "--broker", "127.0.0.1:%d" % free_port(), *args)
    assert out.returncode == 2
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("monitor: ") and message in lines[0], out.stderr


def test_no_broker_is_one_line_and_status_2():
    out = monitor_send("desk", "--ha-forget", "--broker", "127.0.0.1:%d" % free_port(), "--timeout", "2")
    assert out.returncode == 2
    assert len(out.stderr.splitlines()) == 1 and out.stderr.startswith("monitor: "), out.stderr
