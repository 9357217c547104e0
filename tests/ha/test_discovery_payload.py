"""node/lib/discovery.py under CPython: the messages it builds pass Home Assistant's rules (the
validator), say what issue #14 asks, and follow the config (prefix, off, per-component fallback)."""

import json
import re
from types import SimpleNamespace

import pytest

import discovery
from tests.ha.validator import Invalid, check_component, check_device, render_value

DEVICE = "pico-e6614103e7"


def cfg(**kw):
    base = dict(FIRMWARE="0.1.0", TOPIC_PREFIX="pico", HA_DISCOVERY=True, HA_PREFIX="homeassistant")
    base.update(kw)
    return SimpleNamespace(**base)


def entities(c=None, device=DEVICE):
    c = c or cfg()
    return {e.discovery_id.split(" ", 1)[1]: e for e in check_device(discovery.topic(c, device).decode(),
                                                                       discovery.payload(c, device))}


def test_one_retained_device_config_home_assistant_accepts():
    c = cfg()
    assert discovery.topic(c, DEVICE) == b"homeassistant/device/pico-e6614103e7/config"
    assert discovery.messages(c, DEVICE) == [(discovery.topic(c, DEVICE), discovery.payload(c, DEVICE))]
    assert sorted(entities()) == ["boot", "button_a", "button_b", "cmd_dropped", "dropped", "led", "mode",
                                  "presses", "temp"]


def test_the_payload_is_ascii_compact_json_of_about_2_kb():
    body = discovery.payload(cfg(), DEVICE)
    assert body.isascii() and b"\\u00b0C" in body          # the degree sign escaped
    assert 1500 < len(body) < 2600, len(body)
    assert json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=True).encode() == body


def test_the_device_block():
    sensor = entities()["temp"]
    assert sensor.config["device"] == {"identifiers": [DEVICE], "name": "Pico 2 W " + DEVICE,
                                       "manufacturer": "Raspberry Pi", "model": "Pico 2 W", "sw_version": "0.1.0"}
    assert sensor.config["origin"] == {"name": "picostate", "sw_version": "0.1.0"}


def test_each_entity_as_issue_14_lists_it():
    e = entities()
    assert (e["led"].platform, e["led"].config["options"]) == ("select", ["on", "off", "auto"])
    assert (e["mode"].platform, e["mode"].config["options"]) == ("select", ["slow", "fast"])
    for key in ("led", "mode"):
        assert e[key].config["command_topic"] == "pico/%s/cmd" % DEVICE
        assert e[key].config["state_topic"] == "pico/%s/state" % DEVICE
        assert "command_template" in e[key].config
    assert e["button_a"].platform == e["button_b"].platform == "binary_sensor"
    assert e["presses"].platform == "event" and e["presses"].config["state_topic"] == "pico/%s/event" % DEVICE
    assert e["presses"].config["event_types"] == ["press_a", "release_a", "press_b", "release_b"]
    temp = e["temp"].config
    assert (e["temp"].platform, temp["device_class"], temp["unit_of_measurement"], temp["state_class"]) == \
        ("sensor", "temperature", "\u00b0C", "measurement")
    for key in ("dropped", "cmd_dropped", "boot"):
        assert e[key].platform == "sensor" and e[key].config["entity_category"] == "diagnostic"
    for key in ("led", "mode", "button_a", "button_b", "temp", "presses"):
        assert "entity_category" not in e[key].config
    for entity in e.values():
        assert entity.config["availability_topic"] == "pico/%s/status" % DEVICE
        assert "availability_template" in entity.config
        assert "command_topic" not in entity.config or entity.platform == "select"
    assert e["led"].entity_id() == "select.pico_2_w_pico_e6614103e7_led_policy"


def test_unique_ids_are_per_device():
    ids = {e.config["unique_id"] for e in entities().values()}
    other = {e.config["unique_id"] for e in entities(device="desk").values()}
    assert len(ids) == 9 and not ids & other
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", i) for i in ids | other)


def test_a_device_id_home_assistant_would_refuse_is_made_safe_in_ids_and_kept_in_topics():
    c = cfg()
    device = "desk.1 \u00e9"
    assert discovery.topic(c, device) == b"homeassistant/device/desk_1__/config"
    e = entities(c, device)
    assert e["led"].config["unique_id"] == "desk_1___led"
    assert e["led"].config["command_topic"] == "pico/desk.1 \u00e9/cmd"
    assert e["led"].config["device"]["name"] == "Pico 2 W desk.1 \u00e9"
    assert discovery.payload(c, device).isascii()


def test_prefixes_from_the_config():
    c = cfg(HA_PREFIX="ha", TOPIC_PREFIX="lab")
    assert discovery.topic(c, "desk") == b"ha/device/desk/config"
    assert discovery.status_topic(c) == b"ha/status"
    assert discovery.status_topic(cfg()) == b"homeassistant/status"
    e = {x.discovery_id: x for x in check_device("ha/device/desk/config", discovery.payload(c, "desk"), prefix="ha")}
    assert e["desk led"].config["command_topic"] == "lab/desk/cmd"


def test_defaults_when_the_config_predates_discovery():
    old = SimpleNamespace(FIRMWARE="0.1.0", TOPIC_PREFIX="pico")
    assert discovery.topic(old, "desk") == b"homeassistant/device/desk/config"
    assert discovery.status_topic(old) == b"homeassistant/status"


@pytest.mark.parametrize("off", [False, None])
def test_off(off):
    c = cfg(HA_DISCOVERY=off)
    assert discovery.topic(c, DEVICE) is None and discovery.payload(c, DEVICE) is None
    assert discovery.messages(c, DEVICE) == []


@pytest.mark.parametrize(("key", "value"), [("HA_DISCOVERY", "yes"), ("HA_DISCOVERY", 1.5),
                                            ("HA_PREFIX", "home/#"), ("HA_PREFIX", "home/")])
def test_a_bad_setting_is_named(key, value):
    with pytest.raises(ValueError, match=key):
        discovery.messages(cfg(**{key: value}), DEVICE)


def test_component_fallback_gives_one_valid_config_per_entity_with_the_same_content():
    c = cfg(HA_DISCOVERY="component")
    assert discovery.topic(c, DEVICE) is None
    msgs = discovery.messages(c, DEVICE)
    assert [t for t, _ in msgs] == [t.encode() for t in discovery.component_topics("homeassistant", DEVICE)]
    device_mode = entities()
    for topic, body in msgs:
        assert body.isascii()
        entity = check_component(topic.decode(), body)
        key = entity.discovery_id.split(" ")[1]
        assert entity.platform == device_mode[key].platform
        assert entity.config == device_mode[key].config, key   # the same entity either way


def test_temperature_before_the_first_reading_is_unknown_in_home_assistant():
    # The snapshot's temp_c is null until the sensor's first reading; a rendered "None" is Home
    # Assistant's PAYLOAD_NONE, which makes a sensor's state unknown (not an error, not 0).
    snapshot = b'{"temp_c": null}'
    assert render_value(entities()["temp"].config["value_template"], snapshot) == "None"


def test_the_validator_refuses_a_payload_with_a_select_without_options():
    doc = json.loads(discovery.payload(cfg(), DEVICE))
    del doc["cmps"]["mode"]["ops"]
    with pytest.raises(Invalid, match=r"\['mode'\]\['options'\]"):
        check_device(discovery.topic(cfg(), DEVICE).decode(), json.dumps(doc).encode())
