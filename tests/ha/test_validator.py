"""The validator itself, on labelled cases: its golden case carries the facts of Home Assistant's own
device-discovery fixture (tests/components/mqtt/test_discovery.py: a device "0AFFD2" named
"test_device" from origin "Foo2Mqtt", with a device trigger, a sensor and a tag, and the ways its
`test_invalid_device_discovery_config` breaks it), written here as our own case."""

import json

import pytest

from tests.ha.validator import Invalid, check_component, check_device, render_command, render_value

GOLDEN_TOPIC = "homeassistant/device/0AFFD2/config"


def golden():
    return {
        "dev": {"ids": ["0AFFD2"], "name": "test_device"},
        "o": {"name": "Foo2Mqtt", "sw": "1.50.0", "url": "https://www.foo2mqtt.io"},
        "cmps": {
            "bla1": {"p": "device_automation", "atype": "trigger", "pl": "short_press",
                     "t": "foobar/triggers/button1", "type": "button_short_press", "stype": "button_1"},
            "bla2": {"platform": "sensor", "stat_t": "foobar/sensors/bla2/state", "uniq_id": "bla002",
                     "name": "mqtt_sensor"},
            "bla3": {"p": "tag", "topic": "foobar/tags/bla3/see"},
        },
    }


def raw(doc):
    return json.dumps(doc).encode()


def test_golden_case_is_valid_with_home_assistants_ids_and_names():
    entities = {e.platform: e for e in check_device(GOLDEN_TOPIC, raw(golden()))}
    assert sorted(entities) == ["device_automation", "sensor", "tag"]
    sensor = entities["sensor"]
    # Home Assistant: discovery hash ("sensor", "0AFFD2 bla2"), entity sensor.test_device_mqtt_sensor.
    assert sensor.discovery_id == "0AFFD2 bla2"
    assert sensor.entity_id() == "sensor.test_device_mqtt_sensor"
    assert sensor.config["state_topic"] == "foobar/sensors/bla2/state" and sensor.config["unique_id"] == "bla002"
    assert sensor.config["device"] == {"identifiers": ["0AFFD2"], "name": "test_device"}
    assert sensor.config["origin"] == {"name": "Foo2Mqtt", "sw_version": "1.50.0",
                                       "support_url": "https://www.foo2mqtt.io"}
    trigger = entities["device_automation"].config
    assert (trigger["automation_type"], trigger["payload"], trigger["subtype"]) == \
        ("trigger", "short_press", "button_1")


def test_a_node_id_in_the_topic_joins_the_component_ids():
    entities = check_device("homeassistant/device/node1/0AFFD2/config", raw(golden()))
    assert {e.discovery_id for e in entities} == {"0AFFD2 node1 bla1", "0AFFD2 node1 bla2", "0AFFD2 node1 bla3"}


@pytest.mark.parametrize("topic", ["homeassistant/device/rörkrökare/config", "homeassistant/device/a b/config",
                                   "homeassistant/device/0AFFD2/not_config", "other/device/0AFFD2/config"])
def test_illegal_topics(topic):
    with pytest.raises(Invalid):
        check_device(topic, raw(golden()))


def broken(change):
    doc = golden()
    change(doc)
    return raw(doc)


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.pop("dev"), "required key not provided @ data['device']"),
    (lambda d: d.pop("o"), "required key not provided @ data['origin']"),
    (lambda d: d.pop("cmps"), "required key not provided @ data['components']"),
    (lambda d: d["cmps"]["bla2"].pop("platform"), "required key not provided @ data['components']['bla2']['platform']"),
    (lambda d: d.update(cmps=""), "expected a dictionary for dictionary value @ data['components']"),
    (lambda d: d["dev"].pop("ids"), "Device must have at least one identifying value"),
    (lambda d: d["o"].pop("name"), "required key not provided @ data['origin']['name']"),
    (lambda d: d["cmps"]["bla2"].pop("uniq_id"), "data['components']['bla2']['unique_id']"),
    (lambda d: d["cmps"]["bla2"].pop("stat_t"),
     "required key not provided @ data['components']['bla2']['state_topic']"),
    (lambda d: d["cmps"]["bla2"].update(p="timer"), "supported components"),
    (lambda d: d["cmps"]["bla2"].update(stat_tpoic="x"),
     "extra keys not allowed @ data['components']['bla2']['stat_tpoic']"),
    (lambda d: d["cmps"]["bla2"].update(val_tpl="{{ value_json.x "), "invalid template"),
    (lambda d: d["cmps"]["bla2"].update(stat_t="a/#/b"), "invalid subscribe topic"),
    (lambda d: d["cmps"]["bla2"].update(dev_cla="temperature"), "temperature needs a unit"),
    (lambda d: d["cmps"]["bla2"].update(ent_cat="config"), "cannot have entity_category config"),
    (lambda d: d["cmps"].update(**{"bad id": d["cmps"].pop("bla3")}), "is not of [a-zA-Z0-9_-]"),
    (lambda d: d["cmps"].update(bla4=dict(d["cmps"]["bla2"])), "share a unique_id"),
])
def test_what_home_assistant_refuses(change, message):
    with pytest.raises(Invalid) as exc:
        check_device(GOLDEN_TOPIC, broken(change))
    assert message in str(exc.value)


def test_not_json():
    with pytest.raises(Invalid, match="Unable to parse JSON"):
        check_device(GOLDEN_TOPIC, b"not json")


@pytest.mark.parametrize(("platform", "config", "message"), [
    ("select", {"uniq_id": "s", "cmd_t": "x/cmd"}, "['options']"),
    ("select", {"uniq_id": "s", "ops": ["a"]}, "['command_topic']"),
    ("select", {"uniq_id": "s", "ops": [], "cmd_t": "x/cmd"}, "non-empty list"),
    ("select", {"uniq_id": "s", "ops": ["a"], "cmd_t": "x/+"}, "invalid publish topic"),
    ("event", {"uniq_id": "e", "stat_t": "x/event"}, "['event_types']"),
    ("event", {"uniq_id": "e", "stat_t": "x/event", "evt_typ": ["a"], "dev_cla": "bell"}, "EventDeviceClass"),
    ("binary_sensor", {"uniq_id": "b", "stat_t": "x", "dev_cla": "nope"}, "BinarySensorDeviceClass"),
    ("sensor", {"uniq_id": "t", "stat_t": "x", "stat_cla": "average"}, "SensorStateClass"),
    ("sensor", {"uniq_id": "t", "stat_t": "x", "qos": 3}, "[0, 1, 2]"),
])
def test_platform_rules(platform, config, message):
    with pytest.raises(Invalid) as exc:
        check_component("homeassistant/%s/node/x/config" % platform, raw(config))
    assert message in str(exc.value)


def test_a_shared_option_a_platform_has_no_use_for_is_dropped_not_refused():
    doc = golden()
    doc["cmd_t"] = "foobar/cmd"     # a sensor has no command topic: Home Assistant drops it for the sensor
    doc["stat_t"] = "foobar/shared"
    sensor = next(e for e in check_device(GOLDEN_TOPIC, raw(doc)) if e.platform == "sensor")
    assert "command_topic" not in sensor.config
    assert sensor.config["state_topic"] == "foobar/sensors/bla2/state"   # its own wins over the shared one


def test_rendering_follows_home_assistants_variables():
    assert render_value("{{ value_json.a }}", b'{"a": 3}') == "3"
    assert render_value("{{ value }}", b"plain text") == "plain text"
    assert render_command('{"x":"{{ value }}"}', "on") == '{"x":"on"}'
    with pytest.raises(Exception):   # a field that is not there fails here (Home Assistant renders "")
        render_value("{{ value_json.missing }}", b'{"a": 3}')
