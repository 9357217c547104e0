"""The configs both interpreters build discovery messages for (tests/ha/mp_discovery.py and
test_discovery_micropython.py): (device id, HA_DISCOVERY, HA_PREFIX, TOPIC_PREFIX, FIRMWARE)."""

CASES = (
    ("pico-e6614103e7", True, "homeassistant", "pico", "0.1.0"),
    ("desk.1 \u00e9\U0001f600", True, "ha", "lab", "1.2.3-\u03b2"),
    ("it-node", "component", "homeassistant", "pico", "0.1.0"),
    ("it-node", False, "homeassistant", "pico", "0.1.0"),
)
