"""The discovery messages built inside the real MicroPython interpreter are byte for byte the ones
CPython builds (and validates, test_discovery_payload.py)."""

import os
import subprocess
from binascii import hexlify
from pathlib import Path
from types import SimpleNamespace

import discovery
from tests.ha.discovery_cases import CASES
from sim.deps import find_micropython

HERE = Path(__file__).resolve().parent
NODE_LIB = HERE.parents[1] / "node" / "lib"


def expected():
    lines = []
    for n, (device, mode, prefix, topic_prefix, fw) in enumerate(CASES):
        cfg = SimpleNamespace(HA_DISCOVERY=mode, HA_PREFIX=prefix, TOPIC_PREFIX=topic_prefix, FIRMWARE=fw)
        for topic, payload in discovery.messages(cfg, device):
            lines.append("%d %s %s" % (n, hexlify(topic).decode(), hexlify(payload).decode()))
        lines.append("%d status %s" % (n, hexlify(discovery.status_topic(cfg)).decode()))
    return lines


def test_micropython_builds_the_same_bytes():
    env = dict(os.environ, MICROPYPATH=os.pathsep.join([str(NODE_LIB), str(HERE)]))
    out = subprocess.run([str(find_micropython()), str(HERE / "mp_discovery.py")], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    want = expected()
    assert len(want) == 1 + 1 + 1 + 1 + 9 + 1 + 1   # device, device, 9 components, off: with a status line each
    assert out.stdout.splitlines() == want
