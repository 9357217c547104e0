"""Each way a deploy fails gets one line, `deploy: <step>: <what>`, exit status 1, and leaves
nothing half-written on the board (against the virtual board's serial port, with real mpremote)."""

import os
import subprocess

import pytest
import serial

from tests.deploy.conftest import ROOT, run_deploy
from tests.deploy.test_deploy_board import deploy_args, online_line
from tests.helpers import PY, Child, fail_or_skip, free_port, wait_until


def one_error_line(err, prefix):
    lines = [line for line in err.splitlines() if line.startswith("deploy:")]
    assert len(lines) >= 1 and lines[0].startswith(prefix), err
    return lines[0]


@pytest.mark.parametrize("ssid, password, words", [
    ("sim-ap", "not-the-password-4711", "wrong password (status -3)"),
    ("Home", "right-password", "no access point found with that name (status -2)"),
])
def test_the_wifi_failing_on_the_board_is_read_from_its_log(boards, broker, mip_index, tmp_path,
                                                             ssid, password, words):
    # The virtual board sees one access point, "sim-ap", with this password.
    board = boards(env={"SIM_AP_PASSWORD": "right-password"})
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    code, out, err = run_deploy(*deploy_args(board, broker, mip_index, "--id", "w", "--wifi", ssid),
                                env={"PICO_WIFI_PASSWORD": password, "TMPDIR": str(tmpdir)})
    assert code == 1
    line = one_error_line(err, f"deploy: wait: the board's Wi-Fi failed: {words}")
    assert "PICO_WIFI_PASSWORD" in line
    # The firmware is whole (the node keeps retrying), the password only in the board's secrets.py,
    # never printed, and the private build folder is gone.
    tree = board.tree()
    assert tree["firmware/active"] == b"a"
    assert [p for p, data in tree.items() if password.encode() in data] == ["firmware/a/secrets.py"]
    assert b"from secrets import *" in tree["firmware/a/config_local.py"]
    assert password not in out + err
    assert list(tmpdir.iterdir()) == []


def test_a_broker_the_board_cannot_reach(boards, broker, mip_index):
    board = boards()
    closed = f"127.0.0.1:{free_port()}"
    code, out, err = run_deploy("--port", board.port, "--broker", closed, "--index", str(mip_index),
                                "--id", "nb")
    assert code == 1
    one_error_line(err, f"deploy: wait: the board cannot reach the broker at {closed}: "
                        "connection refused")


def test_a_node_that_stops_at_start_is_named_with_its_exception(boards, broker, mip_index):
    board = boards()
    code, out, err = run_deploy(*deploy_args(board, broker, mip_index, "--id", "bad",
                                             "--set", "PIN_LED=99"))
    assert code == 1
    one_error_line(err, "deploy: wait: the node stopped: ValueError: invalid pin")


def test_an_index_without_umqtt_changes_nothing(boards, broker, tmp_path):
    board = boards()
    (tmp_path / "index" / "package").mkdir(parents=True)
    code, out, err = run_deploy("--port", board.port, "--broker", broker.addr,
                                "--index", str(tmp_path / "index"))
    assert code == 1
    one_error_line(err, "deploy: umqtt: mip could not install umqtt.simple: mpremote: Error opening ")
    assert board.tree() == {}


def test_a_port_held_by_another_program(boards, broker, mip_index):
    board = boards()
    holder = serial.Serial(board.port, exclusive=True)   # as Thonny or `mpremote repl` hold it
    try:
        code, out, err = run_deploy(*deploy_args(board, broker, mip_index))
    finally:
        holder.close()
    assert code == 1
    one_error_line(err, f"deploy: find: {board.port} is in use by another program")
    assert board.tree() == {}


def test_no_board(tmp_path, broker):
    code, out, err = run_deploy("--port", str(tmp_path / "serial"), "--broker", broker.addr)
    assert code == 1
    one_error_line(err, f"deploy: find: no such port {tmp_path / 'serial'} (ports seen: ")
    code, out, err = run_deploy("--broker", broker.addr)
    if code == 0 or "find: /dev/" in out:   # a real board is plugged in here: not this test's case
        fail_or_skip("a MicroPython board is attached to this machine: `deploy` without --port finds it")
    one_error_line(err, "deploy: find: no MicroPython board found (ports seen: ")


def test_no_password_and_no_terminal_to_ask_changes_nothing(boards, broker, mip_index):
    board = boards()
    env = {k: v for k, v in os.environ.items() if k != "PICO_WIFI_PASSWORD"}
    out = subprocess.run([PY, "-m", "deploy", *deploy_args(board, broker, mip_index, "--wifi", "Home")],
                         capture_output=True, text=True, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                         timeout=60)
    assert out.returncode == 1
    one_error_line(out.stderr, "deploy: build: no Wi-Fi (Home) password: set PICO_WIFI_PASSWORD")
    assert board.tree() == {}


@pytest.mark.parametrize("args, message", [
    (["--broker", "a:b"], "deploy: --broker takes HOST or HOST:PORT"),
    (["--broker", "h", "--id", "a/b"], "deploy: --id takes a name without spaces"),
    (["--broker", "h", "--country", "Germany"], "deploy: --country takes a two-letter"),
    ([], "deploy: the following arguments are required: --broker"),
    (["--broker", "h", "--set", "WIFI_PASSWORD=x"], "deploy: --set WIFI_PASSWORD: passwords come from"),
    (["--broker", "h", "--index", "/nonexistent"], "deploy: --index /nonexistent: no mip index there"),
    (["--broker", "h", "--wifi-password", "x"], "deploy: unrecognized arguments: --wifi-password"),
])
def test_usage_errors(args, message):
    code, out, err = run_deploy(*args)
    assert code == 2 and err.startswith(message) and err.count("\n") == 1


@pytest.fixture
def small_flash():
    """A board whose flash is a 96 KiB filesystem (a tmpfs: needs root)."""
    mounted = []

    def mount(folder):
        flash = folder / "flash"
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(flash)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            fail_or_skip("cannot mount a small tmpfs as the board's flash: " + result.stderr.strip())
        mounted.append(flash)

    yield mount
    for flash in mounted:
        subprocess.run(["umount", "-l", str(flash)], capture_output=True)


def test_a_full_flash_is_found_before_anything_is_written(boards, broker, mip_index, small_flash):
    board = boards(before=small_flash)
    code, out, err = run_deploy(*deploy_args(board, broker, mip_index))
    assert code == 1
    one_error_line(err, "deploy: plan: the flash is full: the firmware needs about ")
    assert board.tree() == {}


def test_logs_follows_the_console_until_ctrl_c(boards, broker, mip_index):
    board = boards()
    child = Child([PY, "-m", "deploy", *deploy_args(board, broker, mip_index, "--id", "lg", "--logs")],
                  cwd=ROOT)
    try:
        child.wait_line("logs: following", 60)
        online_line(child.output(), "lg")
        start = len(child.lines)
        wait_until(lambda: any("state: ver=" in line for line in child.lines[start:]), 10,
                   "a console line after 'logs: following'")
    finally:
        status = child.stop()   # Ctrl-C
    assert status == 0, child.output()
