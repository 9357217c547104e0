"""Offline check: records per second of `check` on a large recording, against just reading the file and
JSON-decoding each line. Writes the `monitor-check` section of docs/benchmarks.md.

The recording comes from the fleet simulator (`monitor.fleet_publish.write`: no broker), with a few faults
so the checker has findings to make. Measured in this process, best of `--rounds` for each, the three taking
turns in each round (so a machine busy with other work weighs on all of them alike), in CPU time (this
process's user + system time: time spent waiting for a core shared with other work is not counted):
- baseline: `for line in file: json.loads(line)` (the standard library), and the same with orjson;
- `monitor.checker.check(recording.iter_items(path))`: read, decode each record and its payload, check;
- the whole command, `python -m monitor check FILE --json > /dev/null`, start-up included (its CPU time).

    .venv/bin/python bench/monitor_check.py [--messages 300000] [--devices 200] [--rounds 3]
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import write_section  # noqa: E402
from monitor import recording  # noqa: E402
from monitor.checker import check  # noqa: E402
from monitor.fleet import Fleet  # noqa: E402
from monitor.fleet_publish import write  # noqa: E402

FAULTS = {"lost": 0.001, "duplicate": 0.001, "reordered": 0.001, "reboot": 0.0002, "malformed": 0.0005}


def decode_each(path, loads):
    """Read the file and decode each line with `loads`: the baseline (`json.loads`), and orjson beside it."""
    n = 0
    with open(path, "rb") as f:
        for line in f:
            loads(line)
            n += 1
    return n


def run_check(path):
    result = check(recording.iter_items(path))
    return result.lines, result


def timed(fn, path):
    """`(CPU seconds, fn(path))`."""
    t = time.process_time()
    out = fn(path)
    return time.process_time() - t, out


def best_in_turns(fns, path, rounds):
    """The least CPU time of each of `fns` over `rounds` rounds, each round running them in turn; and what
    each returned."""
    times, outs = [float("inf")] * len(fns), [None] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            t, outs[i] = timed(fn, path)
            times[i] = min(times[i], t)
    return times, outs


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.jsonl"
        lines = write(Fleet(args.devices, seed=1, faults=FAULTS), path, args.messages, rate=2000)
        size = path.stat().st_size
        (t_std, t_orj, t_chk), (_, _, (n, result)) = best_in_turns(
            (partial(decode_each, loads=json.loads), partial(decode_each, loads=orjson.loads), run_check), path,
            args.rounds)
        t0 = children_cpu()
        done = subprocess.run([sys.executable, "-m", "monitor", "check", str(path), "--json"], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=600)
        t_cli = children_cpu() - t0
    assert n == lines, (n, lines)
    rate = {name: lines / t for name, t in (("std", t_std), ("orj", t_orj), ("chk", t_chk), ("cli", t_cli))}
    ratio = rate["chk"] / rate["std"]
    body = f"""A fleet-simulator recording of {lines:,} lines ({size / 2**20:.0f} MiB, {args.devices} devices, a few
injected faults: {", ".join(f"{k} {n}" for k, n in result.tally().items())}); best of {args.rounds} runs each, taking
turns; lines per second of CPU time (the machine is shared: time spent waiting for a core is not counted).

| what | lines/s | vs json.loads per line |
|---|---|---|
| read + `json.loads` each line (standard library): the baseline | {rate["std"]:,.0f} | 1.00 |
| read + `orjson.loads` each line | {rate["orj"]:,.0f} | {rate["orj"] / rate["std"]:.2f} |
| `checker.check(recording.iter_items(path))` | {rate["chk"]:,.0f} | {ratio:.2f} |
| `python -m monitor check FILE --json` (whole command, start-up and report included; exit {done.returncode}) | {rate["cli"]:,.0f} | {rate["cli"] / rate["std"]:.2f} |

**Target: `check` at least 0.5 times the baseline. Measured: {ratio:.2f} — {"met" if ratio >= 0.5 else "NOT met"}.**
The checker decodes each line *and* the payload inside it (orjson, with the standard library deciding what
orjson refuses), validates the envelope and the body, orders per device and boot, and steps the model. (It
reads the file's lines itself: a usual line goes straight to a message, with no `Record` in between.)
"""
    print(body)
    write_section("monitor-check", "Monitor: offline check", body, "bench/monitor_check.py")


if __name__ == "__main__":
    main()
