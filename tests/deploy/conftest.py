"""Fixtures for deploy's tests against the virtual board's serial port: a local mip index made
from the umqtt.simple the project fetches, a real broker, empty virtual boards (python -m sim
board), and `python -m deploy` run as a person runs it."""

import os
import subprocess
from pathlib import Path

import pytest

from sim import deps
from tests.helpers import PY, Child, fail_or_skip, wait_until
from tests.outage_harness import BrokerProcess

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def mip_index(tmp_path_factory):
    if not deps.umqtt_path().is_file():
        fail_or_skip("umqtt.simple is not installed for the virtual board (make setup)")
    index = tmp_path_factory.mktemp("mip-index")
    out = subprocess.run([PY, "-m", "deploy", "index", str(index)], capture_output=True, text=True,
                         cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    return index


@pytest.fixture
def broker(tmp_path):
    """A broker of this test's own: a deployed node's retained status must not meet the next test's
    (which waits for a status online)."""
    with BrokerProcess("amqtt", tmp_path) as b:
        yield b


class VirtualBoard:
    def __init__(self, child, folder):
        self.child = child
        self.dir = folder
        self.flash = folder / "flash"
        self.port = str(folder / "serial")

    def tree(self):
        """{path in the flash: bytes} of every file: what the board holds."""
        return {p.relative_to(self.flash).as_posix(): p.read_bytes()
                for p in sorted(self.flash.rglob("*")) if p.is_file()}

    def stamps(self):
        return {p.relative_to(self.flash).as_posix(): p.stat().st_mtime_ns
                for p in self.flash.rglob("*") if p.is_file()}


@pytest.fixture
def boards(tmp_path):
    """boards(name, env=None, before=None) -> a fresh, empty, running virtual board; `before(dir)`
    runs before it starts (to mount something on its flash folder)."""
    started = []

    def start(name="board", env=None, before=None):
        folder = tmp_path / name
        (folder / "flash").mkdir(parents=True)
        if before:
            before(folder)
        child = Child([PY, "-m", "sim", "board", "--board", str(folder), "--heap", "256K"],
                      cwd=ROOT, env={**os.environ, **(env or {})})
        board = VirtualBoard(child, folder)
        started.append(board)
        child.wait_line("serial port", 20)
        wait_until(lambda: os.path.exists(board.port), 10, "the board's serial port")
        return board

    yield start
    for board in started:
        board.child.stop()


def run_deploy(*args, env=None, timeout=120):
    """`python -m deploy ARGS`; (status, stdout, stderr)."""
    out = subprocess.run([PY, "-m", "deploy", *args], capture_output=True, text=True, cwd=ROOT,
                         timeout=timeout, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)
    return out.returncode, out.stdout, out.stderr
