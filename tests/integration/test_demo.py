"""`make demo`'s script: it ends by itself, its report is clean, and it leaves no process behind."""

import os
import re
import subprocess
from pathlib import Path

from tests.helpers import PY

ROOT = Path(__file__).resolve().parents[2]


def _demo_processes():
    """Processes started by a demo run: the node, recorder and broker carry demo-only arguments."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = (Path("/proc", pid, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
        if "--id demo" in cmd or "recordings/demo-" in cmd:
            found.append((int(pid), cmd))
    return found


def run_demo(tmp_path, *args):
    return subprocess.run([PY, str(ROOT / "scripts" / "demo.py"), "--recordings", str(tmp_path), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_demo_ends_by_itself_with_a_clean_report_and_nothing_left_running(tmp_path):
    out = run_demo(tmp_path)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    report = out.stdout[out.stdout.index("=== python -m monitor check"):]
    assert report.rstrip().endswith("OK"), report
    live = re.search(r"boot \w+: (\d+) live, \d+ retained, seq 1\.\.(\d+)", report)
    assert live and live.group(1) == live.group(2), report     # every seq from 1 on, none missing
    assert "rejected: led must be one of: on, off, auto" in out.stdout   # the malformed command's answer
    assert _demo_processes() == []
    assert len(list(tmp_path.glob("demo-*.jsonl"))) == 1


def test_the_secure_demo_logs_in_speaks_tls_refuses_a_neighbour_and_checks_clean(tmp_path):
    out = run_demo(tmp_path, "--secure")
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert out.stdout[out.stdout.index("=== python -m monitor check"):].rstrip().endswith("OK")
    folder = re.search(r"python -m broker certs (\S+)/certs --host localhost", out.stdout).group(1)
    assert re.search(r"node +\| .*mqtt: connected to localhost:\d+ \(TLS\) as demo", out.stdout), out.stdout
    assert re.search(r"send +\| monitor: the broker at 127.0.0.1:\d+ refused the connection: Not authorized",
                     out.stdout), out.stdout                                  # the neighbour without a user
    assert "ack from demo" in out.stdout
    assert "PICO_MQTT_PASSWORD" not in out.stdout
    assert not Path(folder).exists()                                          # users and keys removed
    assert _demo_processes() == []
