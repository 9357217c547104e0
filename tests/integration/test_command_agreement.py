"""The node and the monitor's model read every command alike: the node's `command.parse` inside the real
MicroPython interpreter and `monitor.model.parse_command` under CPython, fed the same payloads (labelled
tricky ones, and a few thousand made by mutating valid commands), must agree on the id, the fields and the
error. And over MQTT: the real node answers commands that MicroPython's json would take but JSON does not
with `not JSON`, and every ack it sends is valid UTF-8 JSON."""

import json
import random
import subprocess
from pathlib import Path

import paho.mqtt.client as mqtt

from monitor.model import MAX_COMMAND_BYTES, parse_command
from sim.deps import find_micropython
from tests.helpers import wait_until
from tests.integration.test_node_end_to_end import ack_of, node, recording, send  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "tests" / "integration" / "programs" / "parse_commands.py"

TRICKY = [
    b'{"id": "c1", "led": "on"}', b'{"id": "c2", "mode": "fast", "get": true}',
    b'{"id": "c", "led": "on",}', b'{"id": "c" "led": "on"}', b'{"id": "c",, "led": "on"}',
    b'{"id": "c", "led": "on"}\x00', b'{"id" "c", "get": true}', b'{"id": "c", "get": true}}',
    b'{"id": "\\ud800", "get": true}', b'{"id": "\\udc00x", "get": true}',
    b'{"id": "\\ud83d\\ude00", "get": true}', b'{"id": "\\u00e9t\\u00e9", "led": "off"}',
    b'{"id": "\xc3\xa9", "get": true}', b'{"id": "\xff", "get": true}', b'{"id": "c", "led": "\\u006fn"}',
    b'{"id": "c", "get": 1}', b'{"id": "c", "get": true, "x": NaN}', b'{"id": "c", "n": 1e999, "get": true}',
    b'{"id": "c", "n": 01, "get": true}', b'{"id": "c", "n": 1., "get": true}', b'{"id": "t\tab", "get": true}',
    b' \r\n{"id": "ws", "get": true} \n', b'[]', b'"id"', b'', b'null', b'{"id": "", "get": true}',
    b'{"id": "' + b"x" * 64 + b'", "get": true}', b'{"id": "' + b"x" * 65 + b'", "get": true}',
    b'{"id": "big", "led": "on", "pad": "' + b"z" * 300 + b'"}', b'{"id": "c", "led": "on", "id": "d"}',
]

ALPHABET = b'{}[]",:\\ \t\n0123456789-+.eEtrufalsn\x00\x01\x7f\xff\xc3\xa9' + b"idledmoegtfastslowuD8DC"


def mutants(n, seed=10):
    """`n` payloads made by inserting, deleting and replacing bytes of valid commands."""
    rng = random.Random(seed)
    bases = [b'{"id": "m1", "led": "on"}', b'{"id": "m2", "mode": "slow", "get": true}',
             b'{"id": "\\ud83d\\ude00", "get": true}', b'{"id": "m3", "led": "auto", "mode": "fast"}']
    out = []
    for _ in range(n):
        b = bytearray(rng.choice(bases))
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(b) + 1)
            op = rng.randrange(3)
            if op == 0:
                b[at:at] = bytes([rng.choice(ALPHABET)])
            elif op == 1 and at < len(b):
                del b[at]
            elif at < len(b):
                b[at] = rng.choice(ALPHABET)
        out.append(bytes(b))
    return out


def node_readings(payloads, tmp_path):
    cases = tmp_path / "cases.hex"
    cases.write_text("".join(p.hex() + "\n" for p in payloads))
    env = {"MICROPYPATH": str(ROOT / "node" / "lib") + ":.frozen"}
    out = subprocess.run([str(find_micropython()), str(PROGRAM), str(cases), str(MAX_COMMAND_BYTES)],
                         capture_output=True, timeout=120, env=env)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert len(lines) == len(payloads), out.stdout[-2000:]
    return [json.loads(line.decode("utf-8")) for line in lines]   # strict UTF-8: every reading is echoable


def test_node_and_model_read_every_command_alike(tmp_path):
    payloads = TRICKY + mutants(3000)
    disagree = []
    accepted = 0
    for raw, (cid, fields, error) in zip(payloads, node_readings(payloads, tmp_path)):
        model = parse_command(raw)
        if (model.id, model.fields, model.error) != (cid, fields, error):
            disagree.append((raw, {"node": [cid, fields, error], "model": list(model)}))
        accepted += error is None
    assert not disagree, "%d disagreements, the first: %s" % (len(disagree), disagree[:5])
    assert accepted > 100, "too few mutants were valid commands to compare the accepting paths"


NOT_JSON_COMMANDS = ['{"id": "t1", "led": "on",}', '{"id": "t2" "led": "on"}', '{"id": "t3",, "led": "on"}',
                     '{"id": "\\ud800", "led": "on"}']


def test_the_node_answers_commands_that_are_not_json_with_not_json(broker, node, recording):
    for raw in NOT_JSON_COMMANDS:
        code, out = send(broker, "--raw", raw)
        ack = ack_of(out)
        assert code == 1 and ack["ok"] is False and ack["error"] == "not JSON" and ack["id"] is None, (raw, out)
    # A trailing NUL cannot travel in an argument: published with paho, its ack awaited in the recording.
    publish_raw(broker, "pico/it-node/cmd", b'{"id": "t5", "led": "on"}\x00')
    acks = lambda: [m for m in recording.messages("it-node", "ack") if m["error"] == "not JSON"]
    wait_until(lambda: len(acks()) == len(NOT_JSON_COMMANDS) + 1, 10, "the ack of the command ending in NUL")
    code, out = send(broker, "--raw", '{"id": "\\ud83d\\ude00", "get": true}')
    assert code == 0 and ack_of(out)["id"] == "\U0001F600", out
    snap = recording.wait_for("it-node", "state", lambda m: not m["_retain"] and m["led"] == "auto")
    assert snap["ver"] == 0, "a command that is not JSON changed the state: %s" % snap
    for line in recording.path.read_bytes().splitlines():   # every ack recorded decodes as UTF-8 JSON
        if b'"ack"' in line:
            json.loads(line.decode("utf-8"))


def publish_raw(broker, topic, payload):
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.connect(broker.host, broker.port, 10)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1).wait_for_publish(10)
    finally:
        client.loop_stop()
        client.disconnect()
