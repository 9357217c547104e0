"""Home Assistant MQTT discovery: the retained config that makes a node appear in Home Assistant.

Owns what the config says (docs/home-assistant.md): one device "Pico 2 W <id>" with the LED policy and
the mode as selects, the buttons as binary sensors, the presses as an event, the temperature, and the
diagnostics (`dropped`, `cmd_dropped`, the boot id). Home Assistant reads everything from what the node
already publishes: availability from the retained `status` JSON, states from the retained `state`
snapshot, presses from `event`, all through templates; the selects send the node's own JSON commands.

Pure: no I/O, the same bytes under CPython and MicroPython (tests/ha/). The link publishes what
`messages()` gives, retained, at each connect and when Home Assistant announces itself (`online` on
`status_topic()`); the caller builds it once at start-up and keeps it, so a publish allocates nothing.

`HA_DISCOVERY` in the config: True (device discovery, one `<prefix>/device/<id>/config`, Home Assistant
2024.11 and newer), "component" (one config per entity, for older ones), False or None (off).
"""

_ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
_HEX = "0123456789abcdef"
MODEL = "Pico 2 W"
ORIGIN = "picostate"

# The templates Home Assistant renders (Jinja). `value_json` is the message's JSON; a select's `value` is
# the option chosen. The command id says who sent it ("ha-"), for which control, and when (ms).
AVAILABILITY = "{{ 'online' if value_json.online else 'offline' }}"
_COMMAND = '{"id":"ha-%s-{{ (now().timestamp()*1000)|int }}","%s":"{{ value }}"}'
# Only button edges are presses; the event's other kinds render "" which Home Assistant ignores.
PRESS_EVENT = ("{% if value_json.kind == 'button' %}"
               '{"event_type":"{{ \'press\' if value_json.pressed else \'release\' }}_{{ value_json.button }}",'
               '"presses":{{ value_json.presses }}}'
               "{% endif %}")
EVENT_TYPES = ["press_a", "release_a", "press_b", "release_b"]


def _mode(cfg):
    """"device", "component" or None (off), from cfg.HA_DISCOVERY."""
    value = getattr(cfg, "HA_DISCOVERY", True)
    if value is None or value is False:
        return None
    if value is True or value == "device":
        return "device"
    if value == "component":
        return "component"
    raise ValueError("HA_DISCOVERY must be True, False or \"component\", not %r" % (value,))


def _prefix(cfg):
    prefix = getattr(cfg, "HA_PREFIX", "homeassistant") or "homeassistant"
    if "+" in prefix or "#" in prefix or prefix.startswith("/") or prefix.endswith("/"):
        raise ValueError("HA_PREFIX must be a topic without wildcards or outer '/', not %r" % (prefix,))
    return prefix


def object_id(device_id):
    """The device id as Home Assistant's ids allow it ([A-Za-z0-9_-]): any other character becomes "_"."""
    return "".join(c if c in _ID_CHARS else "_" for c in device_id) or "_"


def status_topic(cfg):
    """Where Home Assistant says `online` when it (re)starts: the cue to publish discovery again."""
    return (_prefix(cfg) + "/status").encode()


def _components(base):
    """(key, platform, pairs) for each entity; pairs as (key, value), in the order they are written."""
    state = base + "/state"
    diag = ("ent_cat", "diagnostic")
    return (
        ("led", "select", (("name", "LED policy"), ("ic", "mdi:led-on"), ("ops", ["on", "off", "auto"]),
                           ("val_tpl", "{{ value_json.led }}"), ("cmd_tpl", _COMMAND % ("led", "led")), ("qos", 1))),
        ("mode", "select", (("name", "Mode"), ("ic", "mdi:speedometer"), ("ops", ["slow", "fast"]),
                            ("val_tpl", "{{ value_json.mode }}"), ("cmd_tpl", _COMMAND % ("mode", "mode")),
                            ("qos", 1))),
        ("button_a", "binary_sensor", (("name", "Button A"),
                                       ("val_tpl", "{{ 'ON' if value_json.buttons.a else 'OFF' }}"))),
        ("button_b", "binary_sensor", (("name", "Button B"),
                                       ("val_tpl", "{{ 'ON' if value_json.buttons.b else 'OFF' }}"))),
        ("presses", "event", (("name", "Presses"), ("dev_cla", "button"), ("stat_t", base + "/event"),
                              ("evt_typ", EVENT_TYPES), ("val_tpl", PRESS_EVENT))),
        ("temp", "sensor", (("name", "Temperature"), ("dev_cla", "temperature"), ("unit_of_meas", "\u00b0C"),
                            ("stat_cla", "measurement"), ("sug_dsp_prc", 1), ("val_tpl", "{{ value_json.temp_c }}"))),
        ("dropped", "sensor", (("name", "Dropped messages"), diag, ("stat_cla", "total_increasing"),
                               ("val_tpl", "{{ value_json.dropped }}"))),
        ("cmd_dropped", "sensor", (("name", "Dropped commands"), diag, ("stat_cla", "total_increasing"),
                                   ("val_tpl", "{{ value_json.cmd_dropped }}"))),
        ("boot", "sensor", (("name", "Boot id"), diag, ("ic", "mdi:restart"), ("val_tpl", "{{ value_json.boot }}"))),
    ), state


def _common(cfg, device_id):
    prefix = getattr(cfg, "TOPIC_PREFIX", "pico")
    base = "%s/%s" % (prefix, device_id)
    fw = getattr(cfg, "FIRMWARE", "")
    dev = (("ids", [device_id]), ("name", "%s %s" % (MODEL, device_id)), ("mf", "Raspberry Pi"),
           ("mdl", MODEL), ("sw", fw))
    origin = (("name", ORIGIN), ("sw", fw))
    avty = (("avty_t", base + "/status"), ("avty_tpl", AVAILABILITY))
    return base, dev, origin, avty


def _device_message(cfg, device_id):
    sid = object_id(device_id)
    base, dev, origin, avty = _common(cfg, device_id)
    comps, state = _components(base)
    cmps = tuple((key, (("p", platform), ("uniq_id", "%s_%s" % (sid, key))) + pairs)
                 for key, platform, pairs in comps)
    # Shared at the device level, inherited by every component that does not set its own (the event's
    # state topic is `event`): the payload stays near 2 KB instead of repeating them nine times.
    doc = (("dev", dev), ("o", origin)) + avty + (("stat_t", state), ("cmd_t", base + "/cmd"), ("cmps", cmps))
    topic = "%s/device/%s/config" % (_prefix(cfg), sid)
    return topic.encode(), dump_bytes(doc)


def _component_messages(cfg, device_id):
    sid = object_id(device_id)
    base, dev, origin, avty = _common(cfg, device_id)
    comps, state = _components(base)
    out = []
    for key, platform, pairs in comps:
        own = [k for k, _ in pairs]
        doc = (("uniq_id", "%s_%s" % (sid, key)),) + pairs
        if "stat_t" not in own:
            doc += (("stat_t", state),)
        if platform == "select":
            doc += (("cmd_t", base + "/cmd"),)
        doc += avty + (("dev", dev), ("o", origin))
        topic = "%s/%s/%s/%s/config" % (_prefix(cfg), platform, sid, key)
        out.append((topic.encode(), dump_bytes(doc)))
    return out


def messages(cfg, device_id):
    """Every retained discovery message, as (topic bytes, payload bytes): one in device mode, one per
    entity in component mode, none when discovery is off."""
    mode = _mode(cfg)
    if mode == "device":
        return [_device_message(cfg, device_id)]
    if mode == "component":
        return _component_messages(cfg, device_id)
    return []


def topic(cfg, device_id):
    """The device discovery topic (bytes), or None when device discovery is not on."""
    return _device_message(cfg, device_id)[0] if _mode(cfg) == "device" else None


def payload(cfg, device_id):
    """The device discovery payload (bytes), or None when device discovery is not on."""
    return _device_message(cfg, device_id)[1] if _mode(cfg) == "device" else None


def component_topics(prefix, device_id):
    """Every component-mode topic of a device, as str (what to clear, one by one, to remove it)."""
    sid = object_id(device_id)
    comps, _ = _components("")
    return ["%s/%s/%s/%s/config" % (prefix, platform, sid, key) for key, platform, _ in comps]


def _string(text, out):
    # Most strings need no escaping: appended whole. Looking at the bytes allocates nothing per
    # character (iterating the str would make a str of each), which keeps the start-up build small.
    raw = text.encode()
    plain = len(raw) == len(text)
    if plain:
        for b in raw:
            if b < 0x20 or b > 0x7E or b == 0x22 or b == 0x5C:
                plain = False
                break
    if plain:
        out.append('"')
        out.append(text)
        out.append('"')
        return
    out.append('"')
    for c in text:
        n = ord(c)
        if c == '"' or c == "\\":
            out.append("\\" + c)
        elif 0x20 <= n < 0x7F:
            out.append(c)
        elif n > 0xFFFF:    # outside the BMP: a surrogate pair, as JSON spells it
            n -= 0x10000
            _escape(0xD800 + (n >> 10), out)
            _escape(0xDC00 + (n & 0x3FF), out)
        else:               # control characters and everything past ASCII: the payload stays ASCII
            _escape(n, out)
    out.append('"')


def _escape(n, out):
    out.append("\\u" + _HEX[n >> 12 & 15] + _HEX[n >> 8 & 15] + _HEX[n >> 4 & 15] + _HEX[n & 15])


def _value(v, out):
    # An object is a tuple of (key, value) pairs, so the key order is the same on both interpreters.
    # Few calls and no enumerate: in MicroPython a call's frame, and each enumerate pair, is heap.
    if isinstance(v, str):
        _string(v, out)
    elif v is True or v is False:
        out.append("true" if v else "false")
    elif v is None:
        out.append("null")
    elif isinstance(v, int):
        out.append(str(v))
    elif isinstance(v, list):
        sep = "["
        for item in v:
            out.append(sep)
            sep = ","
            _value(item, out)
        out.append("]" if v else "[]")
    elif isinstance(v, tuple):
        sep = "{"
        for pair in v:
            out.append(sep)
            sep = ","
            _string(pair[0], out)
            out.append(":")
            _value(pair[1], out)
        out.append("}" if v else "{}")
    else:
        raise TypeError("cannot encode %r" % (v,))


class _Length:
    """A sink that only counts: the first of dump_bytes' two passes."""

    def __init__(self):
        self.n = 0

    def append(self, piece):
        self.n += len(piece)


class _Fill:
    """A sink that writes each piece into one buffer of the size the first pass counted."""

    def __init__(self, n):
        self.buf = bytearray(n)
        self.at = 0

    def append(self, piece):
        end = self.at + len(piece)
        self.buf[self.at:end] = piece.encode()  # ASCII: one byte a character
        self.at = end


def dump_bytes(doc):
    """Compact, ASCII-only JSON of `doc` (objects as tuples of pairs, arrays as lists), as bytes. Two
    passes, the first only counting: no list of pieces and no join, so the only block it needs in one
    piece is the payload itself (on a small heap, a list of some 700 pieces is what fails)."""
    length = _Length()
    _value(doc, length)
    out = _Fill(length.n)
    _value(doc, out)
    return bytes(out.buf)


def dumps(doc):
    """dump_bytes(doc) as text."""
    return dump_bytes(doc).decode()


def build(cfg, device_id, log):
    """What the link keeps: (messages(), status_topic()), built from a collected heap; ([], None), said
    in one line, when the settings are wrong or the heap is too small for it (the node runs on)."""
    import gc

    gc.collect()                    # building it wants a few KB in one piece: start from a clean heap
    try:
        return messages(cfg, device_id), status_topic(cfg)
    except ValueError as e:         # HA_DISCOVERY or HA_PREFIX set to something it cannot be
        log("mqtt", "no Home Assistant discovery: %s" % e)
    except MemoryError:             # a heap too small for it (docs/benchmarks.md)
        gc.collect()
        log("mqtt", "no Home Assistant discovery: not enough memory to build it (%d bytes free)"
            % gc.mem_free())
    return [], None
