"""Fuzzing the message parser and the checker with malformed payloads: nothing raises, every bad payload
is reported as `malformed`; and the model's reading of commands agrees with the firmware's own."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor import findings as F
from monitor import model, recording
from monitor.checker import check
from monitor.message import Malformed, parse
from monitor.record import Record

NODE_LIB = Path(__file__).resolve().parents[2] / "node" / "lib"

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                    max_leaves=12)
FIELDS = st.fixed_dictionaries({}, optional={
    "boot": st.sampled_from(["9f1c2a7b", "xyz", 7, None]), "sess": st.sampled_from([1, 0, -1, "1", True]),
    "seq": st.sampled_from([1, 2, 0, 10**30, "3", 2.5]), "ts": st.sampled_from([0, -5, "x"]),
    "ver": st.sampled_from([0, 1, -1, None, "v"]), "online": st.sampled_from([True, False, "yes"]),
    "led": st.sampled_from(["on", "purple", 3]), "kind": st.sampled_from(["button", "led", "wink"]),
    "ok": st.sampled_from([True, False, None]), "id": st.sampled_from(["c-1", None, 5]),
    "buttons": JSON, "presses": JSON, "extra": JSON})
PAYLOAD = st.one_of(
    st.binary(max_size=64),
    FIELDS.map(lambda d: json.dumps(d).encode()),
    JSON.map(lambda v: json.dumps(v).encode()),
    st.sampled_from([b"", b"[" * 50_000, b"\xff\xfe\x00", b'{"a":' + b"1" * 30_000 + b"}", b"NaN", b"1e999"]),
)
TOPIC = st.sampled_from(["pico/fz/status", "pico/fz/state", "pico/fz/event", "pico/fz/ack", "pico/fz/cmd",
                         "pico/fz/other", "pico//state", "nope", "pico/fz/state/x"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(TOPIC, PAYLOAD, st.booleans()), min_size=1, max_size=12))
def test_the_checker_never_raises_and_reports_only_its_vocabulary(messages):
    records = [Record(1000.0 + i * 0.01, topic, 1, retain, payload) for i, (topic, payload, retain) in enumerate(messages)]
    result = check(records)
    assert {f.kind for f in result.all_findings()} <= set(F.KINDS)
    for record in records:
        try:
            parse(record)
        except Malformed as exc:
            assert exc.reason
    # what cannot be parsed is reported, one finding per message (but the clearing of a retained status or
    # state, an empty payload the broker forwards, which no node sent)
    bad = 0
    for record in records:
        try:
            parse(record)
        except Malformed as exc:
            bad += not (record.payload == b"" and record.topic.endswith(("/status", "/state")) and exc.device)
    assert result.tally().get(F.MALFORMED, 0) >= bad


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(TOPIC, PAYLOAD), min_size=1, max_size=8))
def test_every_payload_survives_the_recording_byte_for_byte(messages):
    records = [Record(1.0 + i, topic, 1, False, payload) for i, (topic, payload) in enumerate(messages)]
    data = b"".join(recording.encode(r) for r in records)
    assert recording.parse(data) == records


def _node_command():
    sys.path.insert(0, str(NODE_LIB))
    try:
        spec = importlib.util.spec_from_file_location("node_command_under_test", NODE_LIB / "command.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(NODE_LIB))


NODE = _node_command()
COMMAND = st.one_of(
    st.binary(max_size=40),
    st.fixed_dictionaries({}, optional={"id": st.sampled_from(["c", "", "x" * 65, 5, None]),
                                        "led": st.sampled_from(["on", "off", "auto", "blue", 1, None]),
                                        "mode": st.sampled_from(["slow", "fast", "x", 2]),
                                        "get": st.sampled_from([True, False, 1, "yes"]),
                                        "zz": st.just(1), "aa": st.just(2),
                                        "pad": st.text(min_size=200, max_size=260)}).map(lambda d: json.dumps(d).encode()),
)


@settings(max_examples=500, deadline=None)
@given(COMMAND)
def test_the_model_reads_commands_exactly_as_the_firmware_does(raw):
    mine = model.parse_command(raw)
    try:
        cid, fields = NODE.parse(raw)
        theirs = model.Command(cid, fields, None)
    except NODE.CommandError as exc:
        theirs = model.Command(exc.cmd_id, None, exc.reason)
    # the firmware keeps the id in its error only from "unknown key" on; the model always reports it
    # when readable, which is what the node puts in its ack (docs/protocol.md)
    assert (mine.fields, mine.error) == (theirs.fields, theirs.error)
    if theirs.id is not None:
        assert mine.id == theirs.id
