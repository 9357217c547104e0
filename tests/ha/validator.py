"""Home Assistant's MQTT discovery rules, applied to a discovery message, and its templates rendered.

Home Assistant cannot be installed here (2026.11 needs Python 3.14; the last release for 3.11 predates
device discovery), so this module states its rules as its `mqtt/schemas.py`, `mqtt/discovery.py`,
`mqtt/abbreviations.py` and the platforms' schemas do (written here from reading them, not copied):

- the topic is `<prefix>/<component>/[<node_id>/]<object_id>/config`, ids of `[a-zA-Z0-9_-]`;
- abbreviations are expanded first: the message's, its `origin`'s, its `device`'s, each availability
  entry's, and (device discovery) each component's;
- device discovery requires `device` (with at least one identifier or connection), `origin` (with a
  `name`) and `components`, each with a supported `platform`; the shared options at the device level
  (availability, state and command topic, qos, encoding) are inherited by each component that does not
  set its own, and dropped by a platform that has no such option;
- each platform's required options (a select's `command_topic` and `options`, an event's
  `event_types`, every entity's `state_topic` ...), value types, and the choices of `device_class`,
  `state_class`, `entity_category`; plus this project's rule that every entity has a `unique_id`.
  An option a platform does not know is an error here (Home Assistant drops it silently: here it is a
  typo to catch);
- every template compiles, and renders as Home Assistant renders it (`value`, `value_json`, `now()`).

`check_device(topic, payload)` and `check_component(topic, payload)` raise `Invalid` (with Home
Assistant's own wording and path where it has one) or return the entities as Home Assistant would set
them up: `Entity(platform, discovery_id, config)`, the config expanded and merged.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

TOPIC = re.compile(r"(?P<component>\w+)/(?:(?P<node_id>[a-zA-Z0-9_-]+)/)?(?P<object_id>[a-zA-Z0-9_-]+)/config")
ID = re.compile(r"[a-zA-Z0-9_-]+")

# The abbreviations (a subset of Home Assistant's table: every one a node could use here, and the
# common ones around them).
ABBREVIATIONS = {
    "atype": "automation_type", "avty": "availability", "avty_mode": "availability_mode",
    "avty_t": "availability_topic", "avty_tpl": "availability_template", "cmd_t": "command_topic",
    "cmd_tpl": "command_template", "cmps": "components", "def_ent_id": "default_entity_id", "dev": "device",
    "dev_cla": "device_class", "dsp_prc": "display_precision", "e": "encoding", "en": "enabled_by_default",
    "ent_cat": "entity_category", "ent_pic": "entity_picture", "evt_typ": "event_types",
    "exp_aft": "expire_after", "frc_upd": "force_update", "ic": "icon", "json_attr_t": "json_attributes_topic",
    "json_attr_tpl": "json_attributes_template", "lrst_t": "last_reset_topic",
    "lrst_val_tpl": "last_reset_value_template", "name": "name", "o": "origin", "obj_id": "object_id",
    "off_dly": "off_delay", "ops": "options", "opt": "optimistic", "p": "platform", "pl": "payload",
    "pl_avail": "payload_available", "pl_not_avail": "payload_not_available", "pl_off": "payload_off",
    "pl_on": "payload_on", "ret": "retain", "stat_cla": "state_class", "stat_t": "state_topic",
    "stype": "subtype", "sug_dsp_prc": "suggested_display_precision", "t": "topic", "uniq_id": "unique_id",
    "unit_of_meas": "unit_of_measurement", "val_tpl": "value_template",
}
DEVICE_ABBREVIATIONS = {
    "cns": "connections", "cu": "configuration_url", "hw": "hw_version", "ids": "identifiers",
    "mdl": "model", "mdl_id": "model_id", "mf": "manufacturer", "name": "name", "sa": "suggested_area",
    "sn": "serial_number", "sw": "sw_version", "via_device": "via_device",
}
ORIGIN_ABBREVIATIONS = {"name": "name", "sw": "sw_version", "url": "support_url"}

SUPPORTED_COMPONENTS = (
    "alarm_control_panel", "binary_sensor", "button", "camera", "climate", "cover", "device_automation",
    "device_tracker", "event", "fan", "humidifier", "image", "lawn_mower", "light", "lock", "notify",
    "number", "scene", "select", "sensor", "siren", "switch", "tag", "text", "update", "vacuum", "valve",
    "water_heater",
)
SHARED_OPTIONS = ("availability", "availability_mode", "availability_template", "availability_topic",
                  "command_topic", "payload_available", "payload_not_available", "state_topic", "qos",
                  "encoding")
ENTITY_CATEGORIES = ("config", "diagnostic")
SENSOR_DEVICE_CLASSES = (
    "apparent_power", "aqi", "atmospheric_pressure", "battery", "carbon_dioxide", "carbon_monoxide",
    "current", "data_rate", "data_size", "date", "distance", "duration", "energy", "energy_storage", "enum",
    "frequency", "gas", "humidity", "illuminance", "irradiance", "moisture", "monetary", "nitrogen_dioxide",
    "nitrogen_monoxide", "nitrous_oxide", "ozone", "ph", "pm1", "pm10", "pm25", "power", "power_factor",
    "precipitation", "precipitation_intensity", "pressure", "reactive_power", "signal_strength",
    "sound_pressure", "speed", "sulphur_dioxide", "temperature", "timestamp", "volatile_organic_compounds",
    "volatile_organic_compounds_parts", "voltage", "volume", "volume_flow_rate", "volume_storage", "water",
    "weight", "wind_speed",
)
TEMPERATURE_UNITS = ("\u00b0C", "\u00b0F", "K")
STATE_CLASSES = ("measurement", "measurement_angle", "total", "total_increasing")
BINARY_SENSOR_DEVICE_CLASSES = (
    "battery", "battery_charging", "carbon_monoxide", "cold", "connectivity", "door", "garage_door", "gas",
    "heat", "light", "lock", "moisture", "motion", "moving", "occupancy", "opening", "plug", "power",
    "presence", "problem", "running", "safety", "smoke", "sound", "tamper", "update", "vibration", "window",
)
EVENT_DEVICE_CLASSES = ("button", "doorbell", "motion")

# Option name -> what its value must be. "template" compiles with Jinja; "subscribe"/"publish" are topics.
_ENTITY = {
    "name": "name", "unique_id": "string", "icon": "string", "entity_category": "entity_category",
    "enabled_by_default": "bool", "entity_picture": "string", "object_id": "string",
    "default_entity_id": "string", "device": "device", "origin": "origin", "encoding": "string",
    "qos": "qos", "availability": "availability_list", "availability_mode": "availability_mode",
    "availability_topic": "subscribe", "availability_template": "template", "payload_available": "string",
    "payload_not_available": "string", "json_attributes_topic": "subscribe",
    "json_attributes_template": "template",
}
_RO = {"state_topic": "subscribe", "value_template": "template"}
PLATFORMS: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    # platform: (its options, the required ones)
    "select": ({**_ENTITY, **_RO, "command_topic": "publish", "command_template": "template",
                "options": "strings", "optimistic": "bool", "retain": "bool"}, ("command_topic", "options")),
    "binary_sensor": ({**_ENTITY, **_RO, "device_class": "binary_sensor_class", "payload_on": "string",
                       "payload_off": "string", "expire_after": "positive_int", "force_update": "bool",
                       "off_delay": "positive_int"}, ("state_topic",)),
    "sensor": ({**_ENTITY, **_RO, "device_class": "sensor_class", "state_class": "state_class",
                "unit_of_measurement": "string", "suggested_display_precision": "positive_int",
                "expire_after": "positive_int", "force_update": "bool", "options": "strings",
                "last_reset_value_template": "template"}, ("state_topic",)),
    "event": ({**_ENTITY, **_RO, "device_class": "event_class", "event_types": "strings"},
              ("state_topic", "event_types")),
    "device_automation": ({"automation_type": "trigger", "payload": "string", "qos": "qos",
                           "topic": "subscribe", "type": "string", "subtype": "string",
                           "value_template": "template", "device": "device", "origin": "origin",
                           "encoding": "string"}, ("automation_type", "topic", "type", "subtype", "device")),
    "tag": ({"topic": "subscribe", "value_template": "template", "device": "device", "origin": "origin",
             "encoding": "string", "qos": "qos"}, ("topic",)),
}
ENTITY_PLATFORMS = ("select", "binary_sensor", "sensor", "event")

# Home Assistant's template environment: a sandbox; `now()` is a global. StrictUndefined: a template
# that reads a field the node does not publish fails here instead of rendering "".
_ENV = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
_ENV.globals["now"] = lambda: datetime.now(timezone.utc).astimezone()
_ENV.globals["utcnow"] = lambda: datetime.now(timezone.utc)


class Invalid(Exception):
    """A message Home Assistant would refuse (or this project's rules refuse)."""


@dataclass(frozen=True)
class Entity:
    platform: str
    discovery_id: str       # Home Assistant's discovery id: "<node_id> <object_id>"
    config: dict[str, Any]  # expanded, with the device's shared options merged in

    def entity_id(self) -> str:
        """The entity id Home Assistant derives for an entity with a device: device name + name."""
        name = self.config.get("name")
        device_name = self.config.get("device", {}).get("name", "")
        return "%s.%s" % (self.platform, slugify("%s %s" % (device_name, name) if name else device_name))


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _path(keys: tuple[str, ...]) -> str:
    return "data" + "".join("[%r]" % k for k in keys)


def _expand(doc: Any, table: dict[str, str]) -> None:
    if not isinstance(doc, dict):
        return
    for short in set(table).intersection(doc):
        doc[table[short]] = doc.pop(short)


def expand_all(doc: dict[str, Any], component_only: bool = False) -> None:
    """Expand abbreviations where Home Assistant does, in place."""
    _expand(doc, ABBREVIATIONS)
    if isinstance(doc.get("availability"), list):
        for entry in doc["availability"]:
            _expand(entry, ABBREVIATIONS)
    if component_only:
        return
    if "origin" in doc:
        _expand(doc["origin"], ORIGIN_ABBREVIATIONS)
    if "device" in doc:
        _expand(doc["device"], DEVICE_ABBREVIATIONS)
    if isinstance(doc.get("components"), dict):
        for comp in doc["components"].values():
            if isinstance(comp, dict):
                expand_all(comp, component_only=True)


def compile_template(text: Any, where: str) -> jinja2.Template:
    if not isinstance(text, str):
        raise Invalid("template value should be a string for dictionary value @ %s" % where)
    try:
        return _ENV.from_string(text)
    except jinja2.TemplateSyntaxError as exc:
        raise Invalid("invalid template (%s) for dictionary value @ %s" % (exc, where)) from None


def _topic_ok(topic: Any, publish: bool) -> bool:
    if not isinstance(topic, str) or not topic or len(topic.encode()) > 65535 or "\0" in topic:
        return False
    if publish:
        return "+" not in topic and "#" not in topic
    levels = topic.split("/")
    return all(("+" not in lv or lv == "+") and ("#" not in lv or (lv == "#" and i == len(levels) - 1))
               for i, lv in enumerate(levels))


def _check_value(kind: str, value: Any, where: str) -> None:
    def fail(what: str) -> None:
        raise Invalid("%s for dictionary value @ %s" % (what, where))

    if kind == "string":
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            fail("expected str")
    elif kind == "name":
        if value is not None and not isinstance(value, str):
            fail("expected str")
    elif kind == "bool":
        if not isinstance(value, bool):
            fail("expected boolean")
    elif kind == "qos":
        if value not in (0, 1, 2) or isinstance(value, bool):
            fail("value must be one of [0, 1, 2]")
    elif kind == "positive_int":
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            fail("expected a positive int")
    elif kind == "strings":
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            fail("expected a non-empty list of strings")
        if len(set(value)) != len(value):
            fail("duplicate items")
    elif kind == "template":
        compile_template(value, where)
    elif kind in ("subscribe", "publish"):
        if not _topic_ok(value, kind == "publish"):
            fail("invalid %s topic" % kind)
    elif kind == "entity_category":
        if value not in ENTITY_CATEGORIES:
            fail("expected EntityCategory")
    elif kind == "sensor_class":
        if value not in SENSOR_DEVICE_CLASSES:
            fail("expected SensorDeviceClass")
    elif kind == "binary_sensor_class":
        if value not in BINARY_SENSOR_DEVICE_CLASSES:
            fail("expected BinarySensorDeviceClass")
    elif kind == "event_class":
        if value not in EVENT_DEVICE_CLASSES:
            fail("expected EventDeviceClass")
    elif kind == "state_class":
        if value not in STATE_CLASSES:
            fail("expected SensorStateClass")
    elif kind == "trigger":
        if value != "trigger":
            fail("value must be one of ['trigger']")
    elif kind == "availability_mode":
        if value not in ("all", "any", "latest"):
            fail("value must be one of ['all', 'any', 'latest']")
    elif kind == "availability_list":
        entries = value if isinstance(value, list) else [value]
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or "topic" not in entry:
                fail("required key not provided in availability entry %d" % i)
            _check_value("subscribe", entry["topic"], where + "[%d]['topic']" % i)
            if "value_template" in entry:
                _check_value("template", entry["value_template"], where + "[%d]['value_template']" % i)
    elif kind == "device":
        _check_device_info(value, where)
    elif kind == "origin":
        _check_origin(value, where)
    else:  # pragma: no cover - a table entry without a rule
        raise AssertionError(kind)


def _check_device_info(dev: Any, where: str) -> None:
    if not isinstance(dev, dict):
        raise Invalid("expected a dictionary for dictionary value @ %s" % where)
    for key, value in dev.items():
        if key not in DEVICE_ABBREVIATIONS.values():
            raise Invalid("extra keys not allowed @ %s[%r]" % (where, key))
        if key == "identifiers":
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise Invalid("expected a list of strings for dictionary value @ %s['identifiers']" % where)
        elif key == "connections":
            if not isinstance(value, list) or not all(isinstance(c, list) and len(c) == 2 for c in value):
                raise Invalid("expected a list of pairs for dictionary value @ %s['connections']" % where)
        elif not isinstance(value, str):
            raise Invalid("expected str for dictionary value @ %s[%r]" % (where, key))
    if not dev.get("identifiers") and not dev.get("connections"):
        raise Invalid("Device must have at least one identifying value in 'identifiers' and/or "
                      "'connections' for dictionary value @ %s" % where)


def _check_origin(origin: Any, where: str) -> None:
    if not isinstance(origin, dict):
        raise Invalid("expected a dictionary for dictionary value @ %s" % where)
    if "name" not in origin:
        raise Invalid("required key not provided @ %s['name']" % where)
    for key, value in origin.items():
        if key not in ORIGIN_ABBREVIATIONS.values():
            raise Invalid("extra keys not allowed @ %s[%r]" % (where, key))
        if not isinstance(value, str):
            raise Invalid("expected str for dictionary value @ %s[%r]" % (where, key))


def check_platform(platform: str, config: dict[str, Any], where: tuple[str, ...], inherited=()) -> None:
    """One component's config, expanded: the platform's required options and value rules."""
    if platform not in PLATFORMS:
        raise Invalid("platform %r is not checked here @ %s" % (platform, _path(where)))
    options, required = PLATFORMS[platform]
    for key in list(config):
        if key not in options:
            if key in inherited:
                del config[key]     # a shared option this platform has no use for: dropped, as HA does
                continue
            raise Invalid("extra keys not allowed @ %s" % _path(where + (key,)))
    for key in required:
        if key not in config:
            raise Invalid("required key not provided @ %s" % _path(where + (key,)))
    if "availability_topic" in config and "availability" in config:
        raise Invalid("two or more values in the same group of exclusion 'availability' @ %s" % _path(where))
    for key, value in config.items():
        _check_value(options[key], value, _path(where + (key,)))
    if platform in ENTITY_PLATFORMS and not config.get("unique_id"):
        raise Invalid("required key not provided @ %s (every entity here has one)" % _path(where + ("unique_id",)))
    if platform == "sensor" and config.get("device_class") == "temperature":
        if config.get("unit_of_measurement") not in TEMPERATURE_UNITS:
            raise Invalid("temperature needs a unit of %s @ %s" % (", ".join(TEMPERATURE_UNITS), _path(where)))
    if platform == "sensor" and config.get("entity_category") == "config":
        raise Invalid("a sensor cannot have entity_category config @ %s" % _path(where))


def _parse(payload: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Invalid("Unable to parse JSON") from None
    if not isinstance(doc, dict):
        raise Invalid("Unable to parse JSON: not an object")
    return doc


def _match(topic: str, prefix: str) -> re.Match[str]:
    if not topic.startswith(prefix + "/"):
        raise Invalid("not under the discovery prefix %r: %r" % (prefix, topic))
    m = TOPIC.fullmatch(topic[len(prefix) + 1:])
    if not m:
        raise Invalid("Received message on illegal discovery topic %r" % topic)
    return m


def check_device(topic: str, payload: bytes, prefix: str = "homeassistant") -> list[Entity]:
    """A device discovery message (`<prefix>/device/[<node_id>/]<object_id>/config`)."""
    m = _match(topic, prefix)
    if m["component"] != "device":
        raise Invalid("not a device discovery topic: %r" % topic)
    doc = _parse(payload)
    expand_all(doc)
    for key in ("device", "components", "origin"):   # the order Home Assistant's schema reports them in
        if key not in doc:
            raise Invalid("required key not provided @ data[%r]" % key)
    _check_device_info(doc["device"], "data['device']")
    _check_origin(doc["origin"], "data['origin']")
    if not isinstance(doc["components"], dict):
        raise Invalid("expected a dictionary for dictionary value @ data['components']")
    known = {"device", "origin", "components"} | set(SHARED_OPTIONS)
    for key in doc:
        if key not in known:
            raise Invalid("extra keys not allowed @ data[%r]" % key)
    for key in SHARED_OPTIONS:
        if key in doc:
            _check_value({**_ENTITY, **_RO, "command_topic": "publish"}[key], doc[key], "data[%r]" % key)
    entities = []
    for comp_id, comp in doc["components"].items():
        where = ("components", comp_id)
        if not isinstance(comp, dict):
            raise Invalid("expected a dictionary for dictionary value @ %s" % _path(where))
        if "platform" not in comp:
            raise Invalid("required key not provided @ %s" % _path(where + ("platform",)))
        if comp["platform"] not in SUPPORTED_COMPONENTS:
            raise Invalid("value must be one of the supported components @ %s" % _path(where + ("platform",)))
        if not ID.fullmatch(comp_id):
            raise Invalid("component id %r is not of [a-zA-Z0-9_-] @ %s" % (comp_id, _path(where)))
        config = dict(comp)
        platform = config.pop("platform")
        inherited = tuple(k for k in SHARED_OPTIONS if k in doc and k not in config)
        for key in inherited:
            config[key] = doc[key]
        config["device"] = doc["device"]
        config["origin"] = doc["origin"]
        check_platform(platform, config, where, inherited)
        # The device's object id is its components' node id; a node id in the topic joins the component id.
        object_id = "%s %s" % (m["node_id"], comp_id) if m["node_id"] else comp_id
        entities.append(Entity(platform, "%s %s" % (m["object_id"], object_id), config))
    _unique(entities)
    return entities


def check_component(topic: str, payload: bytes, prefix: str = "homeassistant") -> Entity:
    """A single-component discovery message (`<prefix>/<platform>/[<node_id>/]<object_id>/config`)."""
    m = _match(topic, prefix)
    platform = m["component"]
    if platform == "device" or platform not in SUPPORTED_COMPONENTS:
        raise Invalid("Integration %s is not supported" % platform)
    config = _parse(payload)
    expand_all(config)
    if "origin" in config:
        _check_origin(config["origin"], "data['origin']")
    check_platform(platform, config, ())
    discovery_id = "%s %s" % (m["node_id"], m["object_id"]) if m["node_id"] else m["object_id"]
    return Entity(platform, discovery_id, config)


def _unique(entities: list[Entity]) -> None:
    ids = [e.config["unique_id"] for e in entities if "unique_id" in e.config]
    if len(set(ids)) != len(ids):
        raise Invalid("two entities share a unique_id: %s" % sorted(ids))


# --- rendering, as Home Assistant does it ----------------------------------------------------------

def render_value(template: str, payload: bytes) -> str:
    """A value template against a received payload: `value` is the payload text, `value_json` its JSON
    (left out when it is not JSON, as Home Assistant does)."""
    value = payload.decode("utf-8")
    variables: dict[str, Any] = {"value": value}
    try:
        variables["value_json"] = json.loads(value)
    except ValueError:
        pass
    return _ENV.from_string(template).render(variables).strip()


def render_command(template: str, value: Any) -> str:
    """A command template for `value` (a select's option)."""
    return _ENV.from_string(template).render(value=value)


def availability(entity: Entity, payload: bytes) -> str | None:
    """What an availability message does to the entity: "online", "offline" or None (ignored)."""
    cfg = entity.config
    template = cfg.get("availability_template")
    rendered = render_value(template, payload) if template else payload.decode("utf-8")
    if rendered == cfg.get("payload_available", "online"):
        return "online"
    if rendered == cfg.get("payload_not_available", "offline"):
        return "offline"
    return None
