"""The firmware as built for the board: real mpy-cross, outside the repository, reproducible."""

import os
import subprocess

import pytest

from deploy import build
from deploy.errors import DeployError
from sim import deps

REPO = build.REPO


@pytest.fixture
def private(tmp_path):
    folder = build.private_dir()
    yield folder
    import shutil
    shutil.rmtree(folder, ignore_errors=True)


def test_lib_compiled_main_and_config_stay_source(private):
    b = build.build(private / "fw", "BROKER_HOST = 'x'\n", "WIFI_PASSWORD = 'pw'\n")
    sources = sorted(p.stem for p in (REPO / "node" / "lib").glob("*.py"))
    assert sorted(r[4:-4] for r in b.slot if r.startswith("lib/")) == sources
    assert all(r.endswith(".mpy") for r in b.slot if r.startswith("lib/"))
    assert {"config.py", "config_local.py", "secrets.py"} <= set(b.slot)
    assert set(b.root) == {"boot.py", "main.py"}
    local, size, sha = b.slot["lib/app.mpy"]
    assert local.read_bytes()[:2] == b"M\x06"    # .mpy version 6: loads on every Pico and unix
    assert size == local.stat().st_size and sha == build.sha256_file(local)


def test_the_same_sources_give_the_same_bytes_wherever_built(private):
    one = build.build(private / "one", "A = 1\n")
    two = build.build(private / "two", "A = 1\n")
    assert {r: e[2] for r, e in one.slot.items()} == {r: e[2] for r, e in two.slot.items()}


def test_no_mpy_copies_sources(private):
    b = build.build(private / "fw", "A = 1\n", mpy=False)
    assert all(r.endswith(".py") for r in b.slot)
    assert b.slot["lib/app.py"][0].read_bytes() == (REPO / "node" / "lib" / "app.py").read_bytes()


def test_the_build_folder_is_private_and_outside_the_repository(private):
    assert REPO not in private.parents
    assert oct(private.stat().st_mode & 0o777) == "0o700"


def test_a_temporary_folder_inside_the_repository_is_refused(monkeypatch, tmp_path):
    inside = REPO / ".pytest_cache"
    inside.mkdir(exist_ok=True)
    monkeypatch.setenv("TMPDIR", str(inside))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    with pytest.raises(DeployError, match="inside the repository"):
        build.private_dir()
    assert not list(inside.glob("deploy-*"))


def test_the_compiled_modules_load_in_micropython(private):
    """One bytecode set serves the unix port too: the pure modules import and work."""
    b = build.build(private / "fw", "A = 1\n")
    lib = b.slot["lib/backoff.mpy"][0].parent
    for name in lib.glob("*.py"):
        pytest.fail(f"a source beside the .mpy: {name}")
    result = subprocess.run(
        [str(deps.find_micropython()), "-c",
         "import backoff, debounce; b = backoff.Backoff(500, 10000, lambda: 0.5); print(b.next())"],
        env={**os.environ, "MICROPYPATH": str(lib)}, capture_output=True, text=True, timeout=20)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().isdigit()


def test_a_syntax_error_is_one_line(private, tmp_path):
    node = tmp_path / "node"
    (node / "lib").mkdir(parents=True)
    (node / "lib" / "bad.py").write_text("def f(:\n")
    for name in ("main.py", "config.py", "boot.py"):
        (node / name).write_text("\n")
    with pytest.raises(DeployError, match=r"mpy-cross cannot compile .*bad.py") as e:
        build.build(private / "fw", "A = 1\n", node_dir=node)
    assert "\n" not in str(e.value)


def test_folders_of_killed_deploys_are_removed(monkeypatch, tmp_path):
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan = tmp_path / f"deploy-{dead.pid}-x1"
    alive = tmp_path / f"deploy-{os.getppid()}-x2"
    other = tmp_path / "deploy-notes"
    for folder in (orphan, alive, other):
        (folder / "firmware").mkdir(parents=True)
    fresh = build.private_dir()
    try:
        assert not orphan.exists() and alive.exists() and other.exists()
        assert fresh.name.startswith(f"deploy-{os.getpid()}-")
    finally:
        fresh.rmdir()
