"""End to end, as Home Assistant would meet the node: the node on the virtual board (real MicroPython),
a real broker, and a paho client playing Home Assistant. It reads the retained discovery, renders each
select's command_template as Home Assistant does and publishes it, sees the ack and the new state,
announces itself (`homeassistant/status` `online`) and receives the discovery again; the node's
recording (python -m monitor record) then checks clean."""

import json
import subprocess
import time
from types import SimpleNamespace

import pytest

import discovery
from tests.ha.ha_client import HAClient, start_node
from tests.ha.validator import availability, check_component, check_device, render_command, render_value
from tests.helpers import PY, Child
from tests.outage_harness import BrokerProcess

DEVICE = "ha-e2e"
BASE = "pico/" + DEVICE
CONFIG_TOPIC = "homeassistant/device/%s/config" % DEVICE
NODE_CFG = SimpleNamespace(FIRMWARE="0.1.0", TOPIC_PREFIX="pico", HA_DISCOVERY=True, HA_PREFIX="homeassistant")


@pytest.fixture(params=["amqtt", "mosquitto"])
def broker(request, tmp_path):
    with BrokerProcess(request.param, tmp_path) as b:
        yield b


def test_home_assistant_finds_the_node_commands_it_and_the_recording_checks_clean(broker, tmp_path):
    rec_path = tmp_path / "recording.jsonl"
    recorder = Child([PY, "-m", "monitor", "record", "--broker", broker.addr, "--out", str(rec_path)])
    recorder.wait_line("recording")
    node, board = start_node(broker.addr, tmp_path / "board", DEVICE)
    ha = None
    try:
        # Home Assistant starts after the node: the discovery is waiting for it, retained.
        ha = HAClient(broker.addr, "homeassistant-e2e")
        ha.subscribe("homeassistant/device/+/config")
        ha.subscribe(BASE + "/#")
        first = ha.wait_for(CONFIG_TOPIC, what="the retained discovery")
        assert first.retain is True
        assert first.payload == discovery.payload(NODE_CFG, DEVICE)     # what the firmware built, byte for byte
        entities = {e.discovery_id.split(" ", 1)[1]: e for e in check_device(first.topic, first.payload)}
        assert entities["led"].config["device"]["name"] == "Pico 2 W " + DEVICE

        status = ha.wait_for(BASE + "/status", what="the retained status")
        assert availability(entities["led"], status.payload) == "online"

        # Each select, as a person would use it in Home Assistant's UI: a different option each time.
        for key, option in (("led", "on"), ("mode", "fast"), ("led", "auto")):
            cfg = entities[key].config
            assert option in cfg["options"]
            body = render_command(cfg["command_template"], option)
            start = time.monotonic()
            ha.publish(cfg["command_topic"], body, qos=cfg.get("qos", 0))
            cid = json.loads(body)["id"]
            assert cid.startswith("ha-%s-" % key)
            ack = ha.wait_for(BASE + "/ack", lambda m: m.json()["id"] == cid, after=start, what="the ack of " + body)
            assert ack.json()["ok"] is True, ack.payload
            ha.wait_for(cfg["state_topic"], lambda m: render_value(cfg["value_template"], m.payload) == option,
                        after=start, what="the state showing %s %s" % (key, option))
            time.sleep(0.002)   # Home Assistant's ids are milliseconds: a person is never this quick

        # Home Assistant restarts and says so: the node publishes its discovery again.
        start = time.monotonic()
        ha.publish("homeassistant/status", b"online")
        again = ha.wait_for(CONFIG_TOPIC, after=start, what="the discovery again after homeassistant/status online")
        assert again.payload == first.payload
        # ... but not for anything else said there.
        start = time.monotonic()
        ha.publish("homeassistant/status", b"offline")
        ha.publish(BASE + "/cmd", json.dumps({"id": "ha-mark", "get": True}), qos=1)
        ha.wait_for(BASE + "/ack", lambda m: m.json()["id"] == "ha-mark", after=start, what="the marker's ack")
        assert not [m for m in ha.seen(CONFIG_TOPIC) if m.t >= start]

        assert node.stop() == 0
        ha.wait_for(BASE + "/status", lambda m: availability(entities["led"], m.payload) == "offline",
                    what="offline in Home Assistant")
    finally:
        node.stop()
        if ha is not None:
            ha.close()
        recorder.stop()
    check = subprocess.run([PY, "-m", "monitor", "check", str(rec_path), "--json"],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr
    report = json.loads(check.stdout)
    assert DEVICE in report.get("devices", {}), check.stdout[-3000:]


def test_component_mode_publishes_one_valid_config_per_entity(tmp_path):
    want = discovery.messages(SimpleNamespace(**dict(vars(NODE_CFG), HA_DISCOVERY="component")), DEVICE)
    with BrokerProcess("amqtt", tmp_path) as b:
        ha = HAClient(b.addr, "homeassistant-components")
        ha.subscribe("homeassistant/+/%s/+/config" % DEVICE)
        ha.subscribe("homeassistant/device/+/config")
        node, _ = start_node(b.addr, tmp_path / "board", DEVICE, "--set", "HA_DISCOVERY=component")
        try:
            for topic, payload in want:
                got = ha.wait_for(topic.decode(), what="the config on %s" % topic.decode())
                assert got.payload == payload
                check_component(got.topic, got.payload)
            assert not ha.seen("homeassistant/device/%s/config" % DEVICE)
        finally:
            node.stop()
            ha.close()


def test_with_discovery_off_the_node_publishes_none(tmp_path):
    with BrokerProcess("amqtt", tmp_path) as b:
        node, _ = start_node(b.addr, tmp_path / "board", DEVICE, "--set", "HA_DISCOVERY=False")
        ha = HAClient(b.addr, "homeassistant-off")
        try:
            ha.subscribe("homeassistant/#")
            ha.subscribe(BASE + "/#")
            ha.wait_for(BASE + "/status", what="the node online")
            start = time.monotonic()
            ha.publish("homeassistant/status", b"online")
            ha.publish(BASE + "/cmd", json.dumps({"id": "mark", "get": True}), qos=1)
            ha.wait_for(BASE + "/ack", lambda m: m.json()["id"] == "mark", after=start, what="the marker's ack")
            assert [m.topic for m in ha.seen() if m.topic.startswith("homeassistant/")] == ["homeassistant/status"]
        finally:
            node.stop()
            ha.close()
