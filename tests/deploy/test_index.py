"""The local mip index: micropython-lib's layout, serving the umqtt.simple the project fetched."""

import hashlib
import json

from deploy.index import write_umqtt_index
from sim import deps
from tests.helpers import fail_or_skip


def test_layout_and_hashes(tmp_path):
    if not deps.umqtt_path().is_file():
        fail_or_skip("umqtt.simple is not installed for the virtual board (make setup)")
    index = write_umqtt_index(tmp_path / "index")
    for kind, name in (("py", "umqtt/simple.py"), ("6", "umqtt/simple.mpy")):
        latest = json.loads((index / "package" / kind / "umqtt.simple" / "latest.json").read_text())
        assert latest == json.loads((index / "package" / kind / "umqtt.simple" / "1.3.4.json").read_text())
        assert latest["version"] == "1.3.4" and latest["deps"] == []
        [[path, short]] = latest["hashes"]
        assert path == name and len(short) == 8
        data = (index / "file" / short[:2] / short).read_bytes()
        assert hashlib.sha256(data).hexdigest().startswith(short)
        if kind == "py":
            assert data == deps.umqtt_path().read_bytes()
        else:
            assert data[:2] == b"M\x06"
