"""Every rule of the contract, checked by the model: the labelled vectors of tests/vectors/ (README.md there).

- The valid vectors (what the firmware's rules give, tests/node/test_vectors.py) as the message stream a node
  would publish: the model finds nothing, each vector alone and all of them in one stream (a boot each), and
  neither does the whole checker on them as a recording.
- The broken vectors, one case per rule (named after it): the model reports exactly the findings the vector
  lists, each naming its rule, with a witness (what was expected, what was seen) in words a person reads; and
  so does `monitor check` on them as a recording (the rule in the finding's `info`).
- One source for the limits both sides fix: the node's, read from its files with `ast`, equal the model's.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from monitor import findings as F
from monitor import model
from monitor.checker import Limits, check
from monitor.record import Record

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
VALID = sorted(VECTORS.glob("*.json"))
BROKEN = sorted((VECTORS / "broken").glob("*.json"))


@dataclass(frozen=True)
class Msg:
    """What the checker hands the model: a message of one kind, or one of its marks (`boot`, `gap`)."""

    kind: str
    body: Any = None
    retained: bool = False
    command: Any = None


def full_snapshot(shown: dict[str, Any]) -> dict[str, Any]:
    """A whole `state` body: the vector's fields over the initial state, readings and counters filled in
    (`lit` as the LED task shows it once it has: on, or auto with A held, is 1)."""
    body = {"ver": 0, "led": "auto", "mode": "slow", "buttons": {"a": False, "b": False},
            "presses": {"a": 0, "b": 0}, "temp_c": 24.3, "dropped": 0, "cmd_dropped": 0, **shown}
    body.setdefault("lit", 1 if body["led"] == "on" or body["led"] == "auto" and body["buttons"]["a"] else 0)
    return body


def raw_command(given: dict[str, Any]) -> bytes:
    return b"x" * given["cmd_bytes"] if "cmd_bytes" in given else given["cmd"].encode()


def valid_stream(vec: dict[str, Any]) -> list[Msg]:
    """A valid vector as the model sees it: a boot, then each step's messages (acks with their command)."""
    out = [Msg(model.BOOT)]
    for step in vec["steps"]:
        given = step["in"]
        command = model.parse_command(raw_command(given)) if "snapshot" not in given and "button" not in given \
            else None
        for item in step["out"]:
            (kind, body), = item.items()
            out.append(Msg(kind, full_snapshot(body) if kind == "state" else body,
                           command=command if kind == "ack" else None))
    return out


def broken_stream(vec: dict[str, Any]) -> list[Msg]:
    out = []
    for item in vec["messages"]:
        if "boot" in item:
            out.append(Msg(model.BOOT))
        elif "gap" in item:
            out.append(Msg(model.GAP))
        else:
            kind = next(k for k in ("event", "state", "ack", "status") if k in item)
            body = full_snapshot(item[kind]) if kind == "state" else item[kind]
            command = model.parse_command(item["cmd"].encode()) if "cmd" in item else None
            out.append(Msg(kind, body, item.get("retained", False), command))
    return out


def run(stream: list[Msg]) -> list[tuple[int, model.Problem]]:
    state, found = model.init(), []
    for i, m in enumerate(stream):
        state, problems = model.step(state, m)
        found += [(i, p) for p in problems]
    return found


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def node_driver() -> Any:
    """tests/node/test_vectors.py, the vectors' driver of the firmware's rules (`run_step(state, input)`), with
    the node's pure modules (node/lib: rules, command) importable by their board names."""
    lib = str(ROOT / "node" / "lib")
    if lib not in sys.path:
        sys.path.append(lib)  # (last: nothing installed is shadowed by a board module's name)
    if "picostate_vector_driver" not in sys.modules:
        spec = importlib.util.spec_from_file_location("picostate_vector_driver",
                                                      ROOT / "tests" / "node" / "test_vectors.py")
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        sys.modules["picostate_vector_driver"] = module
    return sys.modules["picostate_vector_driver"]


# --- the valid vectors ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_a_valid_vector_passes_the_model(path):
    assert run(valid_stream(load(path))) == []


def test_every_valid_vector_in_one_stream_each_a_new_boot_passes_the_model():
    stream = [m for path in VALID for m in valid_stream(load(path))]
    assert sum(m.kind == model.BOOT for m in stream) == len(VALID) >= 5
    assert run(stream) == []


def recording(vectors: list[dict[str, Any]], device: str = "pico-vec") -> list[Record]:
    """The valid vectors as a recording of one device, a boot each: commands on `cmd`, then the node's
    messages with their envelope (`boot`, `sess`, `seq`, `ts`)."""
    records, t = [], 1_700_000_000.0
    for number, vec in enumerate(vectors, 1):
        boot, seq = f"{number:08x}", 0

        def emit(kind: str, body: dict[str, Any]) -> None:
            nonlocal seq, t
            seq, t = seq + 1, t + 0.01
            payload = {"boot": boot, "sess": 1, "seq": seq, "ts": seq * 10, **body}
            records.append(Record(t, f"pico/{device}/{kind}", 1, False, json.dumps(payload).encode()))

        emit("status", {"online": True, "id": device, "fw": "0.1.0"})
        for step in vec["steps"]:
            given = step["in"]
            if "cmd" in given or "cmd_bytes" in given:
                t += 0.01
                records.append(Record(t, f"pico/{device}/cmd", 1, False, raw_command(given)))
            for item in step["out"]:
                (kind, body), = item.items()
                emit(kind, full_snapshot(body) if kind == "state" else body)
    return records


def test_the_valid_vectors_as_a_recording_pass_the_checker():
    vectors = [load(p) for p in VALID]
    result = check(recording(vectors), limits=Limits(boots=64))
    assert [f for f in result.all_findings() if f.error] == []
    assert {f.kind for f in result.all_findings()} <= {F.REBOOT}


def test_valid_vectors_name_only_rules_the_model_knows():
    for path in VALID:
        vec = load(path)
        assert vec["about"] and set(vec["rules"]) <= set(model.RULES), path


# --- the broken vectors: one labelled case per rule ------------------------------------------------

@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_a_broken_vector_is_reported_as_the_rule_it_breaks(path):
    vec = load(path)
    found = run(broken_stream(vec))
    want = vec["findings"]
    assert [(i, p.kind, p.rule) for i, p in found] == \
        [(f["at"], f["kind"], f.get("rule", vec["breaks"])) for f in want], [p for _, p in found]
    for (_, p), f in zip(found, want, strict=True):
        assert f["says"] in p.detail, p.detail
        if p.kind != model.MALFORMED:  # the witness: what the model expected, next to what it saw
            assert p.expected and p.seen, p
        for side in ("expected", "seen"):
            if side in f:
                assert getattr(p, side) == f[side], (side, p)


def test_every_rule_has_a_broken_vector_named_after_it():
    named = {load(p)["breaks"] for p in BROKEN}
    assert named == set(model.RULES)
    for p in BROKEN:
        assert p.stem.startswith(load(p)["breaks"]), p.name
    reported = {f.get("rule", load(p)["breaks"]) for p in BROKEN for f in load(p)["findings"]}
    assert reported == set(model.RULES)


def broken_recording(vec: dict[str, Any], device: str = "pico-bad") -> list[Record]:
    """A broken vector as a recording: live messages from `seq` 1 after a boot mark (else retained replays),
    each ack's command on `cmd` just before it."""
    records, t, seq, live = [], 1_700_000_000.0, 0, False
    for item in vec["messages"]:
        if "boot" in item:
            live = True
            continue
        assert "gap" not in item  # (a gap would be a `lost` here too)
        kind = next(k for k in ("event", "state", "ack", "status") if k in item)
        if "cmd" in item:
            t += 0.01
            records.append(Record(t, f"pico/{device}/cmd", 1, False, item["cmd"].encode()))
        body = full_snapshot(item[kind]) if kind == "state" else item[kind]
        seq, t = seq + 1, t + 0.01
        payload = {"boot": "0000b00b", "sess": 1, "seq": seq if live else seq + 10, "ts": seq * 10, **body}
        records.append(Record(t, f"pico/{device}/{kind}", 1, item.get("retained", not live),
                              json.dumps(payload).encode()))
    return records


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_monitor_check_reports_a_broken_vector_with_its_rule_and_witness(path):
    vec = load(path)
    found = [f for f in check(broken_recording(vec)).all_findings() if f.error]
    assert [(f.kind, f.info.get("rule")) for f in found] == \
        [(f["kind"], f.get("rule", vec["breaks"])) for f in vec["findings"]], found
    for f, want in zip(found, vec["findings"], strict=True):
        assert want["says"] in f.detail
        for side in ("expected", "seen"):
            if side in want:
                assert getattr(f, side) == want[side]


def test_a_broken_vector_is_caught_by_the_checker_too():
    """The checker reports what the model finds, with the model's witness: B's toggle, as `check` shows it."""
    vectors = [load(p) for p in VALID if p.stem == "buttons"]
    records = recording(vectors)
    mode = next(i for i, r in enumerate(records) if b'"kind": "mode"' in r.payload)
    broken = records[:mode] + [Record(records[mode].t, records[mode].topic, 1, False,
                                      records[mode].payload.replace(b'"kind": "mode", "mode": "fast", "by": "button"',
                                                                    b'"kind": "led", "led": "on", "by": "cmd", '
                                                                    b'"cmd": "x"'))] + records[mode + 1:]
    errors = [f for f in check(broken).all_findings() if f.error]
    assert errors and all(f.kind == F.INCONSISTENT for f in errors)
    assert "so ver 4 must be its mode toggle (by button), not led on by cmd (command 'x')" in errors[0].detail
    assert errors[0].expected == {"kind": "mode", "by": "button", "mode": "fast"}
    assert errors[0].info["rule"] == model.B_TOGGLES_MODE  # (what `check --json` shows of it)


# --- one source for the limits -------------------------------------------------------------------

def constants(path: Path) -> dict[str, Any]:
    """The module-level constants a node file assigns (literals only), read without running it."""
    tree = ast.parse(path.read_text())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return out


def test_the_node_and_the_model_fix_the_same_limits_and_values():
    config = constants(ROOT / "node" / "config.py")
    command = constants(ROOT / "node" / "lib" / "command.py")
    rules = constants(ROOT / "node" / "lib" / "rules.py")
    assert config["MAX_COMMAND_BYTES"] == model.MAX_COMMAND_BYTES
    assert command["MAX_ID_CHARS"] == model.MAX_ID_CHARS
    assert command["_KEYS"] == model.COMMAND_KEYS
    # the order matters too: the rejections list the values in it ("led must be one of: on, off, auto")
    assert rules["LED_POLICIES"] == model.LEDS
    assert rules["MODES"] == model.MODES
    assert rules["BUTTONS"] == model.BUTTONS
    # the default of the node's reader, and the vectors' driver, say the same
    parse = next(n for n in ast.parse((ROOT / "node" / "lib" / "command.py").read_text()).body
                 if isinstance(n, ast.FunctionDef) and n.name == "parse")
    assert ast.literal_eval(parse.args.defaults[0]) == model.MAX_COMMAND_BYTES
    assert constants(ROOT / "tests" / "node" / "test_vectors.py")["MAX_COMMAND_BYTES"] == model.MAX_COMMAND_BYTES
