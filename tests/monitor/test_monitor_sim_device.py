"""One simulated device: the fleet simulator's devices and the tests' fake node both change their state by
the firmware's own rules (node/lib/rules.py, through `monitor.sim_device`), so the behaviour they show the
checker is described once, by the firmware."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from monitor import sim_device
from monitor.checker import check
from monitor.fleet import Fleet, FleetDevice
from monitor.record import Record

from .mon_fakenode import FakeNode

ROOT = Path(__file__).resolve().parents[2]
ACTIONS = [("button", "b", True), ("button", "b", False), ("cmd", "on", "fast"), ("button", "a", True),
           ("cmd", None, "fast"), ("button", "b", True), ("cmd", "auto", None), ("button", "a", False)]


def firmware_rules():
    """node/lib/rules.py, loaded apart from the simulated device's copy."""
    namespace: dict = {}
    exec(compile((ROOT / "node" / "lib" / "rules.py").read_text(), "rules.py", "exec"), namespace)
    return namespace


def without_envelope(bodies):
    return [{k: v for k, v in b.items() if k not in ("boot", "sess", "seq", "ts")} for b in bodies]


def test_the_simulated_device_is_the_firmwares_rules_with_an_envelope():
    assert Path(sim_device.rules.__file__).resolve() == ROOT / "node" / "lib" / "rules.py"
    rules = firmware_rules()
    state, expected = rules["initial"](), []
    dev = FleetDevice("d", random.Random(1))
    published = []
    for n, (kind, a, b) in enumerate(ACTIONS):
        if kind == "button":
            expected += rules["button_edge"](state, a, b)
            published += dev.button(a, b)
        else:
            fields = {k: v for k, v in (("led", a), ("mode", b)) if v is not None}
            expected += rules["apply_command"](state, f"c-{n}", fields)
            published += dev.apply(f"c-{n}", fields)
    assert dev.state == state and [k for k, _ in published] == ["event"] * len(expected)
    assert without_envelope(b for _, b in published) == expected
    assert [b["seq"] for _, b in published] == list(range(1, len(expected) + 1))


def test_the_fake_node_and_the_fleet_show_the_same_device():
    node, dev = FakeNode(device="d"), FleetDevice("d", random.Random(1))
    from_node, from_fleet = [], []
    for n, (kind, a, b) in enumerate(ACTIONS):
        if kind == "button":
            from_node += node.button(a, b)
            from_fleet += [body for _, body in dev.button(a, b)]
        else:
            from_node += node.command(f"c-{n}", led=a, mode=b, wire=False)
            from_fleet += [body for _, body in dev.apply(f"c-{n}", {k: v for k, v in (("led", a), ("mode", b))
                                                                    if v is not None})]
            from_fleet.append(dev.ack(f"c-{n}")[1])
    node_bodies = [json.loads(r.payload) for r in from_node]
    assert without_envelope(node_bodies) == without_envelope(from_fleet)
    assert node.mode == dev.mode == "slow" and node.presses == dev.presses == {"a": 1, "b": 2}


def test_a_fleet_without_faults_checks_clean():
    records = []
    fleet = Fleet(5, seed=7)
    for i, pub in enumerate(fleet.publications(2000)):
        records.append(Record(1_700_000_000.0 + i / 1000, pub.topic, 1, False, pub.payload))
    result = check(records)
    assert result.tally() == {} and len(result.devices) == 5


def test_without_the_firmwares_rules_the_simulated_device_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setattr(sim_device, "RULES", tmp_path / "node" / "lib" / "rules.py")
    with pytest.raises(ImportError, match="the firmware's rules are not at .*rules.py"):
        sim_device._firmware_rules()
