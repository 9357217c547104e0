"""`monitor plot` on a recording of 10,000 devices, against `monitor check` on the same file (the baseline:
plot runs the same check, then reads the file again for the devices it draws). Writes the `monitor-plot`
section of docs/benchmarks.md.

The recording comes from the fleet simulator (`monitor.fleet_publish.write`: no broker), with a few faults so
that there are devices with findings to choose first. Each command runs as its own process, the two taking
turns, best of `--rounds`; measured per process (os.wait4): CPU time (user + system: time spent waiting for
a core shared with other work is not counted) and peak resident memory.

    .venv/bin/python bench/monitor_plot.py [--devices 10000] [--messages 210000] [--rounds 3]
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import write_section  # noqa: E402
from monitor.fleet import Fleet  # noqa: E402
from monitor.fleet_publish import write  # noqa: E402

FAULTS = {"lost": 0.001, "duplicate": 0.001, "reordered": 0.001, "reboot": 0.0002}


def measured(argv):
    """Run `python -m monitor ARGV`; (CPU seconds, peak RSS in MiB, exit status) of that process alone."""
    process = subprocess.Popen([sys.executable, "-m", "monitor", *argv], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=210_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fleet.jsonl"
        lines = write(Fleet(args.devices, seed=1, faults=FAULTS), path, args.messages, rate=2000)
        size = path.stat().st_size
        runs = {"check": ["check", str(path), "--json"],
                "plot": ["plot", str(path), "-o", str(Path(tmp) / "timeline.html")],
                "plot-png": ["plot", str(path), "-o", str(Path(tmp) / "timeline.png")]}
        best = {name: (float("inf"), float("inf"), None) for name in runs}
        for _ in range(args.rounds):
            for name, argv in runs.items():
                cpu, rss, status = measured(argv)
                best[name] = (min(best[name][0], cpu), min(best[name][1], rss), status)
        html_kib = (Path(tmp) / "timeline.html").stat().st_size / 1024
    t_check, m_check, s_check = best["check"]
    rows = [("`python -m monitor check FILE --json`: the baseline", best["check"]),
            ("`python -m monitor plot FILE -o timeline.html` (12 devices drawn)", best["plot"]),
            ("`python -m monitor plot FILE -o timeline.png`", best["plot-png"])]
    table = "\n".join(f"| {what} | {cpu:.2f} | {cpu / t_check:.2f} | {rss:.0f} | {status} |"
                      for what, (cpu, rss, status) in rows)
    ratio = best["plot"][0] / t_check
    body = f"""A fleet-simulator recording of {lines:,} lines ({size / 2**20:.0f} MiB, {args.devices:,} devices, a few
injected faults); each command a process of its own, taking turns, best of {args.rounds}: CPU seconds (user +
system) and peak resident memory of that process.

| command | CPU s | vs check | peak MiB | exit |
|---|---|---|---|---|
{table}

The HTML timeline is {html_kib:.0f} KiB. `plot` checks the recording as `check` does, then reads it again for
the devices it draws only (the most errors first), so the file is never held whole.
**Target (issue 15: a recording of 10,000 devices works): plot within twice check's CPU time. Measured:
{ratio:.2f} — {"met" if ratio <= 2 else "NOT met"}.**
"""
    print(body)
    write_section("monitor-plot", "Monitor: a timeline of 10,000 devices", body, "bench/monitor_plot.py")


if __name__ == "__main__":
    main()
