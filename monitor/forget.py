"""`python -m monitor forget ID`: clear what the broker retains for a device that is gone: its `status`,
`state`, any retained `cmd` (everything retained under `pico/ID/`), and its Home Assistant discovery, in
both forms (the device config `send --ha-forget` clears, and the per-entity configs of
`HA_DISCOVERY = "component"`, node/lib/discovery.py).

It clears only what the broker holds (collected first: monitor.retained), with an empty retained message
on each topic, which is also what tells Home Assistant to delete the device. Then it looks again with a
fresh subscription: a topic still held means the broker ignored the empty message (most often an ACL that
does not let this user publish there), and says so rather than claiming it cleared.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.errors import MonitorError
from monitor.message import json_object
from monitor.mqtt import CONNECT_TIMEOUT, Link, Security
from monitor.record import Record
from monitor.retained import collect
from monitor.send import ha_discovery_topic


class DeviceOnline(MonitorError):
    """The device's retained status says it is online: forgetting it now would be undone at once."""


def filters(device: str, prefix: str = "homeassistant") -> list[str]:
    """What to look for: every retained message under `pico/ID/`, the device discovery config, and the
    per-entity configs (`PREFIX/<platform>/<object id>/<entity>/config`)."""
    device_topic = ha_discovery_topic(device, prefix)  # PREFIX/device/<object id>/config
    object_id = device_topic.split("/")[-2]
    return [f"pico/{device}/#", device_topic, f"{prefix}/+/{object_id}/+/config"]


def online(status: Record | None) -> bool:
    """Whether a retained status says online (a malformed one does not)."""
    body = None if status is None else json_object(status.payload)
    return body is not None and body.get("online") is True


@dataclass
class Forgotten:
    """The topics cleared, and those the broker kept all the same."""

    cleared: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def forget(broker: str, device: str, prefix: str = "homeassistant", *, force: bool = False,
           security: Security | None = None) -> Forgotten:
    """Clear every retained message of `device` (see the module's docstring). `DeviceOnline` when its
    status says online and not `force`; `BrokerError` when the broker cannot be reached."""
    wanted = filters(device, prefix)
    found = collect(broker, wanted, security=security, name="monitor-forget").messages
    if not force and online(found.get(f"pico/{device}/status")):
        raise DeviceOnline(f"{device} is online (its retained status says so): stop it first, or give --force")
    topics = sorted(found)
    if not topics:
        return Forgotten()
    with Link(broker, "monitor-forget", security=security) as link:
        link.connect(CONNECT_TIMEOUT)
        for topic in topics:
            link.publish(topic, b"", qos=1, retain=True, timeout=CONNECT_TIMEOUT)
    still = collect(broker, wanted, security=security, name="monitor-forget").messages
    kept = [t for t in topics if t in still and still[t].payload == found[t].payload]
    return Forgotten(cleared=[t for t in topics if t not in kept], kept=kept)

