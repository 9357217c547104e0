"""The programs deploy runs on the board, run on the virtual board through real mpremote: the
probe reports what is there, and the switch refuses a copy that is not whole."""

import hashlib
import subprocess

from deploy import onboard
from tests.deploy.conftest import ROOT
from tests.helpers import PY


def mpremote_run(board, tmp_path, name, text):
    script = tmp_path / f"{name}.py"
    script.write_text(text)
    return subprocess.run([PY, "-m", "mpremote", "connect", board.port, "run", str(script)],
                          capture_output=True, text=True, timeout=30, cwd=ROOT)


def test_probe_and_switch(boards, tmp_path):
    board = boards()
    lib = board.flash / "firmware" / "b" / "lib"
    lib.mkdir(parents=True)
    (lib / "app.mpy").write_bytes(b"M\x06 not really")
    (board.flash / "main.py").write_text("print('hello')\n")
    good = hashlib.sha256(b"M\x06 not really").hexdigest()

    out = mpremote_run(board, tmp_path, "probe", onboard.probe_script())
    assert out.returncode == 0, out.stderr
    info, files = onboard.parse_probe(out.stdout)
    assert info["virtual"] is True and info["umqtt"] is False and info["active"] is None
    assert info["version"][:2] >= [1, 25] and info["mpy"] == 6 and info["free"] > 0
    assert files == {"/main.py": (15, hashlib.sha256(b"print('hello')\n").hexdigest()),
                     "/firmware/b/lib/app.mpy": (13, good)}

    # One file not as it should be: an error, and nothing switched.
    out = mpremote_run(board, tmp_path, "switch", onboard.switch_script(
        [("/firmware/b/lib/app.mpy", "0" * 64), ("/firmware/b/config.py", good)], [], "b"))
    assert out.returncode != 0
    assert "not as copied: /firmware/b/lib/app.mpy /firmware/b/config.py" in out.stdout + out.stderr
    assert not (board.flash / "firmware" / "active").exists()

    (board.flash / "main.py.new").write_text("print('new')\n")
    out = mpremote_run(board, tmp_path, "switch", onboard.switch_script(
        [("/firmware/b/lib/app.mpy", good)], [("/main.py.new", "/main.py")], "b"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert (board.flash / "firmware" / "active").read_text() == "b"
    assert (board.flash / "main.py").read_text() == "print('new')\n"
    assert not (board.flash / "main.py.new").exists()
    assert not (board.flash / "firmware" / "active.new").exists()


def test_prepare_makes_folders_and_removes_stale_files(boards, tmp_path):
    board = boards()
    old = board.flash / "firmware" / "a" / "old"
    old.mkdir(parents=True)
    (old / "x.py").write_text("1\n")
    (board.flash / "firmware" / "a" / "app.py").write_text("1\n")
    out = mpremote_run(board, tmp_path, "prepare", onboard.prepare_script(
        ["/firmware", "/firmware/a", "/firmware/a/lib"], ["/firmware/a/old/x.py", "/firmware/a/app.py"]))
    assert out.returncode == 0, out.stdout + out.stderr
    assert sorted(p.relative_to(board.flash).as_posix() for p in board.flash.rglob("*")) == [
        "firmware", "firmware/a", "firmware/a/lib"]
