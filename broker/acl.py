"""Who may do what: the roles (node, monitor, homeassistant), the topics each may publish and read, and
those rules written for each broker (amqtt's plugin options, Mosquitto's acl_file). Pure: no I/O.

A node's user name is its device id, so its rules name its own topics only. The same rules are written for
amqtt (one entry per user: amqtt has no `%u`) and for Mosquitto (`pattern` lines with `%u` for nodes, a
`user` block for each monitor and Home Assistant user).
"""

NODE, MONITOR, HOMEASSISTANT = "node", "monitor", "homeassistant"
ROLES = (NODE, MONITOR, HOMEASSISTANT)

# Its Home Assistant discovery: one device config, or one config per entity (HA_DISCOVERY = "component").
# Only under the prefix `homeassistant`, and only for a device id that needs no sanitising (node/lib/
# discovery.py turns other characters into `_`; Mosquitto's %u cannot).
_NODE_PUBLISH = ("pico/%u/status", "pico/%u/state", "pico/%u/event", "pico/%u/ack",
                 "homeassistant/device/%u/config", "homeassistant/+/%u/+/config")
_NODE_READ = ("pico/%u/cmd", "homeassistant/status")
# Mosquitto's count of dropped messages: the monitor's recorder asks for it (monitor/subscriber.py).
_BROKER_DROPPED = "$SYS/broker/publish/messages/dropped"
_PUBLISH = {
    MONITOR: ("pico/+/cmd", "homeassistant/device/+/config"),
    HOMEASSISTANT: ("pico/+/cmd", "homeassistant/status"),
}
_READ = {
    MONITOR: ("pico/#", "homeassistant/#", _BROKER_DROPPED),
    HOMEASSISTANT: ("pico/#", "homeassistant/#"),
}
_BAD_NAME_CHARS = set("/+#:") | {chr(c) for c in range(33)} | {"\x7f"}


def check_name(name):
    """The reason `name` cannot be a user name (None when it can). A node's name is a topic level, and
    the users file is `name:hash` lines, so no `/ + # :`, no space or control character."""
    if not name:
        return "a user name cannot be empty"
    if name.startswith("#"):
        return "a user name cannot start with '#'"
    bad = sorted(set(name) & _BAD_NAME_CHARS)
    if bad:
        return "a user name cannot contain %s" % ", ".join(repr(c) for c in bad)
    if len(name.encode("utf-8")) > 64:
        return "a user name is at most 64 bytes"
    return None


def publish_filters(name, role):
    """The topics (filters) user `name` with `role` may publish on."""
    if role == NODE:
        return [t.replace("%u", name) for t in _NODE_PUBLISH]
    return list(_PUBLISH[role])


def read_filters(name, role):
    """The filters user `name` with `role` may subscribe to, and the topics it may receive."""
    if role == NODE:
        return [t.replace("%u", name) for t in _NODE_READ]
    return list(_READ[role])


def matches(pattern, topic):
    """Whether `topic` (or a filter as narrow) is within the filter `pattern` (MQTT `+` and `#`). As in
    MQTT, `pico/a/#` covers `pico/a` too; a `+` or `#` in `topic` is matched only by the same or wider."""
    want, got = pattern.split("/"), topic.split("/")
    for i, level in enumerate(want):
        if level == "#":
            return True
        if i >= len(got):
            return False
        if level != "+" and level != got[i]:
            return False
        if level != "+" and got[i] in ("+", "#"):
            return False
    return len(got) == len(want)


def allowed(filters, topic):
    """Whether `topic` is within any of `filters`."""
    return any(matches(f, topic) for f in filters)


def amqtt_rules(users):
    """amqtt's `TopicAccessControlListPlugin` options (`publish_acl`, `acl`) for `users` ({name: role})."""
    return {"publish_acl": {name: publish_filters(name, role) for name, role in users.items()},
            "acl": {name: read_filters(name, role) for name, role in users.items()}}


def mosquitto_acl(users):
    """Mosquitto's acl_file text for `users` ({name: role}). Node rules are `pattern` lines (`%u` is the
    user name), which Mosquitto applies to every user: so a monitor or Home Assistant user may also speak
    as a node named like itself (a device id no node has: harmless). Anonymous clients get nothing."""
    lines = ["# Written by `python -m broker user`: edits are lost at the next change.",
             "# Nodes (user name = device id): their own topics only."]
    lines += ["pattern write %s" % t for t in _NODE_PUBLISH]
    lines += ["pattern read %s" % t for t in _NODE_READ]
    for name, role in sorted(users.items()):
        if role == NODE:
            continue
        lines += ["", "# %s" % role, "user %s" % name]
        lines += ["topic read %s" % t for t in read_filters(name, role)]
        lines += ["topic write %s" % t for t in publish_filters(name, role)]
    return "\n".join(lines) + "\n"
