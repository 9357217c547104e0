"""A local package index for `mip` (`python -m deploy index DIR`), so a deploy needs no Internet:
`--index DIR` then serves umqtt.simple as micropython-lib's index would.

The layout is micropython-lib's (tools/build.py): `package/{py|6}/{name}/{latest|version}.json`
lists each file's board path with the first 8 hex digits of its SHA-256, and the file itself is
`file/{hash[:2]}/{hash}`. `6` is the .mpy version the board reports (`sys.implementation._mpy`);
its files are compiled with mpy-cross. The umqtt.simple served is the one the project fetches at
set-up (1.3.4, see sim/deps.py).
"""

import hashlib
import json
import subprocess
import tempfile
from pathlib import Path

from deploy.build import mpy_cross_command
from deploy.errors import DeployError

UMQTT_NAME = "umqtt.simple"
UMQTT_VERSION = "1.3.4"
MPY_VERSION = 6
SHORT_HASH = 8


def _put_file(index, data):
    short = hashlib.sha256(data).hexdigest()[:SHORT_HASH]
    path = index / "file" / short[:2] / short
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return short


def _put_package(index, kind, name, version, files):
    """files: {board path relative to the target, e.g. 'umqtt/simple.py': bytes}."""
    hashes = [[rel, _put_file(index, data)] for rel, data in sorted(files.items())]
    text = json.dumps({"v": 1, "version": version, "hashes": hashes, "deps": []}, indent=1)
    folder = index / "package" / kind / name
    folder.mkdir(parents=True, exist_ok=True)
    for leaf in ("latest", version):
        (folder / f"{leaf}.json").write_text(text + "\n")


def write_package(index, name, version, sources):
    """Add package `name` (sources: {'umqtt/simple.py': Path}) to the index at `index`, as
    source and as .mpy."""
    index = Path(index)
    binary = mpy_cross_command()
    py = {rel: Path(src).read_bytes() for rel, src in sources.items()}
    mpy = {}
    with tempfile.TemporaryDirectory(prefix="deploy-index-") as tmp:
        for rel, src in sources.items():
            out = Path(tmp) / (Path(rel).stem + ".mpy")
            result = subprocess.run([binary, "-s", Path(rel).name, "-o", str(out), str(src)],
                                    capture_output=True, text=True, timeout=60)
            if result.returncode != 0:
                raise DeployError("index", f"mpy-cross cannot compile {src}: {result.stderr.strip()}")
            mpy[rel[:-3] + ".mpy"] = out.read_bytes()
    _put_package(index, "py", name, version, py)
    _put_package(index, str(MPY_VERSION), name, version, mpy)


def write_umqtt_index(index):
    """The index with the umqtt.simple fetched by `make setup`; returns its folder."""
    from sim import deps

    source = deps.umqtt_path()
    if not source.is_file():
        raise DeployError("index", f"no umqtt.simple at {source}: run make setup (python -m sim setup)")
    write_package(index, UMQTT_NAME, UMQTT_VERSION, {"umqtt/simple.py": source})
    return Path(index)
