"""Memory per device: what the streaming checker keeps for each of 10,000 devices, and what `record` and
`check` take for a burst of 100,000 device ids that each publish once. Writes the `monitor-memory` section
of docs/benchmarks.md.

The fleet simulator's messages (generated, not kept) are fed to one `Checker`; Python's allocations are
measured with tracemalloc (what the checker holds, after the feed, minus what was held before it was
made), and the process's resident memory is read from /proc before and after. The same is then done
with a 10x longer stream, to show the state per device stays bounded (it does not grow with traffic).

The burst (`--burst 100000` ids, one snapshot each):
- offline: `python -m monitor check FILE --json` on the burst's recording, its peak resident memory (the
  child's `ru_maxrss`), beside the same command on a one-device recording (the baseline), with the
  default device cap and with the cap raised above the burst;
- live: `python -m monitor record` on a Mosquitto broker (its queue unbounded, so nothing is dropped), the
  resident memory of the record process and of its receiver after the burst was recorded and checked,
  beside the same processes idle after subscribing (the baseline), with both caps again.

    .venv/bin/python bench/monitor_memory.py [--devices 10000] [--messages-per-device 20] [--burst 100000]
"""

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import write_section  # noqa: E402
from monitor import recording  # noqa: E402
from monitor.checker import MAX_DEVICES, Checker  # noqa: E402
from monitor.fleet import Fleet  # noqa: E402
from monitor.record import Record  # noqa: E402
from tests.helpers import wait_until  # noqa: E402
from tests.outage_harness import BrokerProcess  # noqa: E402

SNAPSHOT = {"boot": "9f1c2a7b", "sess": 1, "seq": 5, "ts": 100, "ver": 3, "led": "auto", "lit": 0, "mode": "slow",
            "buttons": {"a": False, "b": False}, "presses": {"a": 0, "b": 0}, "temp_c": 24.3, "dropped": 0,
            "cmd_dropped": 0}


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def measure(devices, per_device):
    fleet = Fleet(devices, seed=1, faults={"lost": 0.001, "reordered": 0.001})
    gc.collect()
    tracemalloc.start()
    before, rss0 = tracemalloc.get_traced_memory()[0], rss()
    checker = Checker()
    t = 1_000_000.0
    n = 0
    for line, pub in enumerate(fleet.publications(devices * per_device), start=1):
        t += 0.0005
        checker.feed(Record(t, pub.topic, 1, False, pub.payload), line)
        n += 1
    checker.advance(t + 60)
    gc.collect()
    after, peak = tracemalloc.get_traced_memory()
    rss1 = rss()
    tracemalloc.stop()
    held = after - before
    del checker
    return n, held / devices, (rss1 - rss0) / devices, peak


def burst_topics(n):
    return [f"pico/burst-{i:06d}/state" for i in range(n)]


def write_burst(path, n):
    payload = json.dumps(SNAPSHOT).encode()
    t, mono = time.time(), time.monotonic()
    with open(path, "wb") as f:
        for i, topic in enumerate(burst_topics(n)):
            f.write(recording.encode(Record(t + i * 1e-5, topic, 1, False, payload, mono + i * 1e-5)))


def check_peak(path, *extra):
    """Peak resident memory (bytes) of `python -m monitor check PATH --json`, and its exit status."""
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "check", str(path), "--json", *extra], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss * 1024, proc.returncode


def offline(n, tmp):
    small, big = Path(tmp) / "one.jsonl", Path(tmp) / "burst.jsonl"
    write_burst(small, 1)
    write_burst(big, n)
    base, _ = check_peak(small)
    rows = []
    for cap in (MAX_DEVICES, n):
        peak, status = check_peak(big, "--max-devices", str(cap))
        rows.append((cap, base, peak, status))
    return big.stat().st_size, rows


def rss_of(pid):
    """Resident memory (bytes) of `pid` now, and its peak (VmRSS, VmHWM)."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) * 1024
    return fields["VmRSS"], fields["VmHWM"]


def children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(c) for c in f.read().split()]


def live(n, cap, tmp):
    """`record` through a burst of `n` one-message ids: RSS of the record process and its receiver, idle
    after subscribing and after the burst was recorded and checked."""
    import paho.mqtt.client as mqtt

    # Its queue unbounded, so that nothing is dropped.
    broker = BrokerProcess("mosquitto", tmp, extra_conf="max_queued_messages 0\nmax_inflight_messages 0\n")
    port = broker.port
    out = Path(tmp) / f"live-{cap}.jsonl"
    rec = None
    broker.start()
    try:
        rec = subprocess.Popen([sys.executable, "-m", "monitor", "record", "--broker", f"127.0.0.1:{port}", "--out",
                                str(out), "--quiet", "--max-devices", str(cap)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = rec.stderr.readline()
        if not line.startswith("monitor: recording"):
            raise SystemExit(f"bench: record did not start: {line!r}")
        wait_until(lambda: children(rec.pid), 10, "the receiver")
        receiver = children(rec.pid)[0]
        time.sleep(1.0)  # idle: what a subscribed recorder holds before any message
        base = rss_of(rec.pid)[0], rss_of(receiver)[0]
        pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="burst", protocol=mqtt.MQTTv311)
        pub.max_inflight_messages_set(500)
        pub.connect("127.0.0.1", port, 60)
        pub.loop_start()
        payload = json.dumps(SNAPSHOT).encode()
        started = time.monotonic()
        window = []
        for topic in burst_topics(n):  # at most 500 waiting for their PUBACK (paho's own queue is bounded)
            window.append(pub.publish(topic, payload, qos=1))
            if len(window) >= 500:
                for info in window:
                    info.wait_for_publish(60)
                window.clear()
        for info in window:
            info.wait_for_publish(60)
        pub.loop_stop()
        pub.disconnect()
        wait_until(lambda: out.exists() and _lines(out) >= n, 600, "the burst recorded")
        took = time.monotonic() - started
        time.sleep(3.0)  # the checker's hold (2 s reorder timeout for ids joined midway) ends; then read
        after = rss_of(rec.pid), rss_of(receiver)
    finally:
        if rec is not None:
            rec.terminate()
            rec.wait(60)
        broker.stop()
    return {"cap": cap, "base": base, "record": after[0], "receiver": after[1], "took": took}


def _lines(path):
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--messages-per-device", type=int, default=20)
    parser.add_argument("--burst", type=int, default=100_000)
    args = parser.parse_args()
    mib = 2 ** 20
    with tempfile.TemporaryDirectory() as tmp:
        size, off = offline(args.burst, tmp)
        for cap, base, peak, status in off:
            print(f"check, {args.burst:,} ids, cap {cap:,}: peak {peak / mib:.0f} MiB (baseline {base / mib:.0f} MiB), "
                  f"exit {status}", flush=True)
        lives = [live(args.burst, cap, tmp) for cap in (MAX_DEVICES, args.burst)]
        for r in lives:
            print(f"record, {args.burst:,} ids, cap {r['cap']:,}: {r['record'][0] / mib:.0f} MiB (peak "
                  f"{r['record'][1] / mib:.0f}), receiver {r['receiver'][0] / mib:.0f} MiB; idle "
                  f"{r['base'][0] / mib:.0f} + {r['base'][1] / mib:.0f} MiB", flush=True)
    rows = []
    for per in (args.messages_per_device, args.messages_per_device * 10):
        n, traced, resident, _ = measure(args.devices, per)
        rows.append((per, n, traced, resident))
        print(f"{args.devices} devices, {n:,} messages: {traced:,.0f} B/device traced, {resident:,.0f} B/device RSS",
              flush=True)
    table = "\n".join(f"| {args.devices:,} | {n:,} (about {per} per device) | {traced / 1024:.1f} KiB | "
                      f"{resident / 1024:.1f} KiB |" for per, n, traced, resident in rows)
    off_rows = "\n".join(f"| `check --max-devices {cap:,}` | {base / mib:.0f} MiB | {peak / mib:.0f} MiB | "
                          f"{(peak - base) / min(cap, args.burst) / 1024:.1f} KiB | {status} |"
                          for cap, base, peak, status in off)
    live_rows = "\n".join(
        f"| `record --max-devices {r['cap']:,}` | {r['base'][0] / mib:.0f} MiB + {r['base'][1] / mib:.0f} MiB | "
        f"{r['record'][0] / mib:.0f} MiB (peak {r['record'][1] / mib:.0f}) + {r['receiver'][0] / mib:.0f} MiB | "
        f"{(r['record'][0] - r['base'][0]) / min(r['cap'], args.burst) / 1024:.1f} KiB | {r['took']:.0f} s |"
        for r in lives)
    body = f"""What one `Checker` holds after a fleet-simulator stream (status, snapshots, events, commands and
acks; a few lost and reordered messages), per device.

| devices | messages fed | Python allocations held per device (tracemalloc) | resident memory per device |
|---|---|---|---|
{table}

The state per device is bounded by `monitor.checker.Limits` (boots tracked, messages held behind a gap,
recently lost ranges, commands waiting, round-trip samples): ten times the traffic does not make it
grow by much. The largest items are the last snapshot body (shown by `watch`; `record` and `check` let
it go once the model has read it) and, per boot, the last delivered message and snapshot (the witnesses
of the next finding). No target was set for this figure.

**A burst of {args.burst:,} device ids, one snapshot each** (a {size / mib:.0f} MiB recording). Offline, the
peak resident memory of the whole `check` command, beside the same command on a one-device recording:

| command | baseline (one device) | peak | per device tracked, over the baseline | exit |
|---|---|---|---|---|
{off_rows}

Live, `record` on Mosquitto (queue unbounded): the record process and its receiver, idle after
subscribing (the baseline) and once the burst was recorded and checked:

| command | baseline: record + receiver | after the burst: record + receiver | per device tracked, over the baseline | burst recorded in |
|---|---|---|---|---|
{live_rows}

Past `--max-devices` (10,000 by default) new ids are counted, not checked, and one `untracked` note says so:
the memory stops growing there. The offline figure includes the report (one entry per device).
"""
    print(body)
    write_section("monitor-memory", "Monitor: memory per device", body, "bench/monitor_memory.py")


if __name__ == "__main__":
    main()
