"""Every template of the discovery payload rendered, as Home Assistant renders it, against REAL messages
from the node running on the virtual board (real MicroPython, real broker): availability, the selects'
and sensors' states, the press event; and every command template rendered and sent, the node
accepting it (its ack) and the node's own parser and the monitor's model reading it the same way.

One run of the node (module fixture) gives the messages; each test asserts one promise on them."""

import json
import re
import time
from types import SimpleNamespace

import pytest

import command as node_command
import discovery
from monitor.model import parse_command
from tests.ha.ha_client import HAClient, start_node
from tests.ha.validator import availability, check_device, render_command, render_value
from tests.outage_harness import BrokerProcess

DEVICE = "ha-live"
BUTTON_A, BUTTON_B = "GP14", "GP13"
BASE = "pico/" + DEVICE


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ha-live")
    cfg = SimpleNamespace(FIRMWARE="0.1.0", TOPIC_PREFIX="pico", HA_DISCOVERY=True)
    entities = {e.discovery_id.split(" ", 1)[1]: e
                for e in check_device(discovery.topic(cfg, DEVICE).decode(), discovery.payload(cfg, DEVICE))}
    sent = []   # (entity key, option, rendered command, ack)
    with BrokerProcess("amqtt", tmp) as broker:
        ha = HAClient(broker.addr)
        ha.subscribe(BASE + "/#")
        node, board = start_node(broker.addr, tmp / "board", DEVICE)
        try:
            ha.wait_for(BASE + "/status", lambda m: m.json()["online"] is True, what="status online")
            board.set_temperature(21.7)
            ha.wait_for(BASE + "/state", lambda m: m.json()["temp_c"] == 21.7, what="a state at 21.7 C")
            for pin, button in ((BUTTON_A, "a"), (BUTTON_B, "b")):
                board.press(pin)
                ha.wait_for(BASE + "/event", lambda m: m.json().get("button") == button and m.json()["pressed"],
                            what="button %s pressed" % button)
                ha.wait_for(BASE + "/state", lambda m: m.json()["buttons"][button] is True,
                            what="a snapshot with button %s held" % button)
                board.release(pin)
                ha.wait_for(BASE + "/event", lambda m: m.json().get("button") == button and not m.json()["pressed"],
                            what="button %s released" % button)
            for key in ("led", "mode"):
                cfg_ = entities[key].config
                for option in cfg_["options"]:
                    body = render_command(cfg_["command_template"], option)
                    ha.publish(cfg_["command_topic"], body, qos=cfg_.get("qos", 0))
                    cid = json.loads(body)["id"]
                    ack = ha.wait_for(BASE + "/ack", lambda m: m.json()["id"] == cid, what="the ack of " + body)
                    ha.wait_for(BASE + "/state", lambda m: m.json()[key] == option, what="state %s %s" % (key, option))
                    sent.append((key, option, body, ack.json()))
                    time.sleep(0.002)   # Home Assistant's ids are milliseconds: a person is never this quick
            node.stop()     # a clean stop: the node publishes its offline status itself
            ha.wait_for(BASE + "/status", lambda m: m.json()["online"] is False and "seq" in m.json(),
                        what="the node's own offline status")
            mark = time.monotonic()
            node, board = start_node(broker.addr, tmp / "board", DEVICE)
            ha.wait_for(BASE + "/status", lambda m: m.json()["online"] is True, after=mark, what="online again")
            node.kill()     # vanishes: the broker publishes the Last Will
            ha.wait_for(BASE + "/status", lambda m: m.json()["online"] is False and "seq" not in m.json(),
                        what="the Last Will")
        finally:
            node.stop()
            ha.close()
    return SimpleNamespace(entities=entities, ha=ha, sent=sent)


def payloads(run, kind):
    return [m.payload for m in run.ha.seen(BASE + "/" + kind)]


def test_availability_is_online_or_offline_for_every_status_including_the_last_will(run):
    seen = {}
    for body in payloads(run, "status"):
        doc = json.loads(body)
        kind = "online" if doc["online"] else ("clean stop" if "seq" in doc else "will")
        for entity in run.entities.values():
            seen.setdefault(kind, set()).add(availability(entity, body))
    assert seen == {"online": {"online"}, "clean stop": {"offline"}, "will": {"offline"}}


def test_selects_show_one_of_their_options_and_the_snapshots_value(run):
    states = payloads(run, "state")
    assert len(states) >= 5
    for key in ("led", "mode"):
        cfg = run.entities[key].config
        for body in states:
            shown = render_value(cfg["value_template"], body)
            assert shown in cfg["options"] and shown == json.loads(body)[key]


def test_binary_sensors_are_on_or_off_as_the_buttons(run):
    shown = set()
    for body in payloads(run, "state"):
        for b in ("a", "b"):
            value = render_value(run.entities["button_" + b].config["value_template"], body)
            assert value == ("ON" if json.loads(body)["buttons"][b] else "OFF")
            shown.add((b, value))
    assert shown == {("a", "ON"), ("a", "OFF"), ("b", "ON"), ("b", "OFF")}


def test_temperature_is_a_number_the_node_measured(run):
    values = [render_value(run.entities["temp"].config["value_template"], body) for body in payloads(run, "state")]
    assert values and all(re.fullmatch(r"-?\d+(\.\d+)?", v) for v in values), values
    assert "21.7" in values


def test_diagnostics(run):
    for body in payloads(run, "state"):
        doc = json.loads(body)
        for key, field in (("dropped", "dropped"), ("cmd_dropped", "cmd_dropped")):
            assert render_value(run.entities[key].config["value_template"], body) == str(doc[field]) == "0"
        assert re.fullmatch(r"[0-9a-f]{8}", render_value(run.entities["boot"].config["value_template"], body))


def test_presses_are_events_of_the_declared_types_and_other_events_are_ignored(run):
    cfg = run.entities["presses"].config
    types = []
    for body in payloads(run, "event"):
        doc = json.loads(body)
        shown = render_value(cfg["value_template"], body)
        if doc["kind"] != "button":
            assert shown == ""      # Home Assistant ignores an empty rendering
            continue
        event = json.loads(shown)
        assert event["event_type"] in cfg["event_types"]
        assert event == {"event_type": ("press_" if doc["pressed"] else "release_") + doc["button"],
                         "presses": doc["presses"]}
        types.append(event["event_type"])
    assert types == ["press_a", "release_a", "press_b", "release_b"]
    assert any(json.loads(b)["kind"] == "mode" for b in payloads(run, "event"))


def test_every_command_template_gives_a_command_the_node_accepted(run):
    assert [(k, o) for k, o, _, _ in run.sent] == [("led", "on"), ("led", "off"), ("led", "auto"),
                                                    ("mode", "slow"), ("mode", "fast")]
    for key, option, body, ack in run.sent:
        assert ack["ok"] is True, ack
        cid, fields = node_command.parse(body.encode())
        assert fields == {key: option}
        model = parse_command(body.encode())
        assert (model.id, model.fields, model.error) == (cid, {key: option}, None)


def test_command_ids_say_home_assistant_and_differ_per_use(run):
    ids = [json.loads(body)["id"] for _, _, body, _ in run.sent]
    assert len(set(ids)) == len(ids)
    now_ms = time.time() * 1000
    for (key, _, _, _), cid in zip(run.sent, ids):
        m = re.fullmatch(r"ha-(led|mode)-(\d+)", cid)
        assert m and m.group(1) == key and abs(int(m.group(2)) - now_ms) < 120_000, cid
