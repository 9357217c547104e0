"""Memory per device: what the streaming checker keeps for each of 10,000 devices. Writes the
`monitor-memory` section of docs/benchmarks.md.

The fleet simulator's messages (generated, not kept) are fed to one `Checker`; Python's allocations are
measured with tracemalloc (what the checker holds, after the feed, minus what was held before it was
made), and the process's resident memory is read from /proc before and after. The same is then done
with a 10x longer stream, to show the state per device stays bounded (it does not grow with traffic).

    .venv/bin/python bench/monitor_memory.py [--devices 10000] [--messages-per-device 20]
"""

import argparse
import gc
import sys
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import write_section  # noqa: E402
from monitor.checker import Checker  # noqa: E402
from monitor.fleet import Fleet  # noqa: E402
from monitor.record import Record  # noqa: E402


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--messages-per-device", type=int, default=20)
    args = parser.parse_args()
    rows = []
    for per in (args.messages_per_device, args.messages_per_device * 10):
        n, traced, resident, _ = measure(args.devices, per)
        rows.append((per, n, traced, resident))
        print(f"{args.devices} devices, {n:,} messages: {traced:,.0f} B/device traced, {resident:,.0f} B/device RSS",
              flush=True)
    table = "\n".join(f"| {args.devices:,} | {n:,} (about {per} per device) | {traced / 1024:.1f} KiB | "
                      f"{resident / 1024:.1f} KiB |" for per, n, traced, resident in rows)
    body = f"""What one `Checker` holds after a fleet-simulator stream (status, snapshots, events, commands and
acks; a few lost and reordered messages), per device.

| devices | messages fed | Python allocations held per device (tracemalloc) | resident memory per device |
|---|---|---|---|
{table}

The state per device is bounded by `monitor.checker.Limits` (boots tracked, messages held behind a gap,
recently lost ranges, commands waiting, round-trip samples): ten times the traffic does not make it
grow by much. The largest items are the last snapshot body (shown by `watch`) and, per boot, the last
delivered message and snapshot (the witnesses of the next finding). No target was set for this figure.
"""
    print(body)
    write_section("monitor-memory", "Monitor: memory per device", body, "bench/monitor_memory.py")


if __name__ == "__main__":
    main()
