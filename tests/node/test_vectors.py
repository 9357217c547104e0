# Pure-module cases: plain functions and asserts, run by pytest and by tests/node/mp_run.py under MicroPython.
# The labelled vectors of tests/vectors/ (README.md there) run through the firmware's own rules (rules.py) and
# command reader (command.py), as the node's Shared and command owner call them: each step's input must give
# exactly the events, acks and snapshots the vector expects, in order. The monitor's model checks the same
# files (tests/monitor/test_model_rules.py).
import json
import os

import rules
from command import CommandError, parse

VECTORS = __file__.rsplit("/", 2)[0] + "/vectors"
MAX_COMMAND_BYTES = 256     # node/config.py's (tests/monitor/test_model_rules.py proves they agree)


def vector_files():
    return sorted(VECTORS + "/" + n for n in os.listdir(VECTORS) if n.endswith(".json"))


def load(path):
    with open(path) as f:
        return json.load(f)


def snapshot(state):
    """What the node's snapshot says of the versioned state (readings and counters are not rules.py's)."""
    return {"ver": state["ver"], "led": state["led"], "mode": state["mode"],
            "buttons": {"a": state["buttons"]["a"], "b": state["buttons"]["b"]},
            "presses": {"a": state["presses"]["a"], "b": state["presses"]["b"]}}


def run_step(state, given):
    """The messages one input makes, in the order the node queues them (node/lib/shared.py)."""
    if "button" in given:
        return [{"event": e} for e in rules.button_edge(state, given["button"], given["pressed"])]
    if "snapshot" in given:
        return [{"state": snapshot(state)}]
    raw = given["cmd_bytes"] if "cmd_bytes" in given else given["cmd"].encode()
    try:
        cmd_id, fields = parse(raw, MAX_COMMAND_BYTES)
    except CommandError as e:
        return [{"ack": {"id": e.cmd_id, "ok": False, "error": e.reason}}]
    out = [{"event": e} for e in rules.apply_command(state, cmd_id, fields)]
    out.append({"ack": {"id": cmd_id, "ok": True, "ver": state["ver"]}})
    if fields.get("get"):
        out.append({"state": snapshot(state)})
    return out


def test_every_vector_gives_what_it_expects():
    files = vector_files()
    assert len(files) >= 5, files
    for path in files:
        vec = load(path)
        state = rules.initial()
        for i, step in enumerate(vec["steps"]):
            got = run_step(state, step["in"])
            assert got == step["out"], "%s step %d %r: got %r, expected %r" % (path, i, step["in"], got, step["out"])


def test_vectors_start_from_the_initial_state_and_name_their_rules():
    for path in vector_files():
        vec = load(path)
        assert vec["name"] and vec["rules"] and vec["steps"], path
        first = vec["steps"][0]
        if "snapshot" in first["in"]:
            assert first["out"] == [{"state": snapshot(rules.initial())}], path
