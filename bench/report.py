"""Writing benchmark results into docs/benchmarks.md.

Each benchmark script owns one section of that file, between `<!-- bench:NAME -->` and
`<!-- /bench:NAME -->`, and rewrites only its own, so scripts run separately keep each other's results.
"""

import platform
import subprocess
import time
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"

HEADER = """# Benchmarks

Measured by the scripts in `bench/` (`make bench` runs them all); each section says which script wrote
it, when, and on what machine. Every figure stands next to a baseline measured in the same run, on the
same machine: absolute rates move by a third from run to run here, the ratios are the stable figures.
"""


def machine():
    try:
        cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    except OSError:
        cores = "?"
    return "%s %s, %s cores, Python %s" % (platform.system(), platform.machine(), cores,
                                           platform.python_version())


def write_section(name, title, body, script):
    """Replace (or add) the section `name` of docs/benchmarks.md with `body` (Markdown)."""
    text = DOC.read_text() if DOC.exists() else HEADER
    start, end = "<!-- bench:%s -->" % name, "<!-- /bench:%s -->" % name
    section = "%s\n## %s\n\n_Written by `%s` on %s; %s._\n\n%s\n%s" % (
        start, title, script, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), machine(),
        body.strip(), end)
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + section + after
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    DOC.write_text(text)
