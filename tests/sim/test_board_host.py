"""The host's Board on a board directory, without a program running: what it writes to pins.in
and what it reads from pins.log."""

import time

import pytest

from sim.board import Board
from sim.board import _simformat as fmt


def pins_in(board):
    return (board.dir / "pins.in").read_text()


def test_drive_and_release_rewrite_pins_in(tmp_path):
    board = Board(tmp_path)
    board.drive(14, 0)
    board.press("GP13")
    board.wlan(False)
    assert pins_in(board) == "GP14 0\nGP13 0\nWLAN 0\n"
    board.drive("gp14", 1)  # a new value replaces the old line
    board.release(13)
    assert pins_in(board) == "WLAN 0\nGP14 1\n"
    assert board.driven() == {"WLAN": "0", "GP14": "1"}
    assert not list(tmp_path.glob(".pins.in.*.tmp")), "no temporary file left behind"


def test_temperature_and_adc4_are_one_input(tmp_path):
    board = Board(tmp_path)
    board.drive("ADC4", 14000)
    board.set_temperature(30.5)
    assert fmt.parse_pins_in(pins_in(board)) == {"ADC4": fmt.temp_to_raw(30.5)}
    board.drive("ADC4", 100)
    assert pins_in(board) == "ADC4 100\n"
    board.release("TEMP")
    assert pins_in(board) == ""


@pytest.mark.parametrize("name, value", [("GP14", 2), ("LED", 1), ("GP40", 0), ("TEMP", "hot")])
def test_invalid_drives_raise_and_write_nothing(tmp_path, name, value):
    board = Board(tmp_path)
    with pytest.raises(ValueError):
        board.drive(name, value)
    assert not (tmp_path / "pins.in").exists()


def test_press_with_hold_releases_afterwards(tmp_path):
    board = Board(tmp_path)
    board.press(14, hold=0.01)
    assert pins_in(board) == ""


def write_log(path, text):
    path.write_text(text)


def test_changes_and_outputs_come_from_pins_log(tmp_path):
    log = tmp_path / "pins.log"
    write_log(log, "# t0_ns 1000\n0.010 GP15 0\n0.020 LED 0\n0.500 GP15 1\n0.6")
    board = Board(tmp_path)
    assert board.changes() == [(0.01, "GP15", 0), (0.02, "LED", 0), (0.5, "GP15", 1)]
    assert board.changes(15) == [(0.01, "GP15", 0), (0.5, "GP15", 1)]
    assert board.outputs() == {"GP15": 1, "LED": 0}
    assert board.output("led") == 0 and board.output(16) is None
    assert board.t0_ns() == 1000
    with open(log, "a") as f:  # the half-written line completes; more follow
        f.write("00 LED 1\n")
    assert board.changes("LED") == [(0.02, "LED", 0), (0.6, "LED", 1)]


def test_a_new_run_starts_the_log_over(tmp_path):
    log = tmp_path / "pins.log"
    write_log(log, "# t0_ns 1000\n0.010 GP15 1\n")
    board = Board(tmp_path)
    assert board.outputs() == {"GP15": 1}
    write_log(log, "# t0_ns 2000\n0.010 LED 1\n")
    assert board.changes() == [(0.01, "LED", 1)]
    assert board.t0_ns() == 2000


def test_wait_for_returns_the_time_of_the_change(tmp_path):
    write_log(tmp_path / "pins.log", "# t0_ns 1\n0.1 GP15 1\n0.2 GP15 0\n0.3 GP15 1\n")
    board = Board(tmp_path)
    assert board.wait_for(15, 1, timeout=0.1) == 0.3
    assert board.wait_for(15, 0, timeout=0.1, since=0.15) == 0.2


def test_wait_for_times_out_with_what_it_saw(tmp_path):
    write_log(tmp_path / "pins.log", "# t0_ns 1\n0.1 GP15 1\n")
    board = Board(tmp_path)
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=r"GP15 did not become 0 within 0.2 s \(it is 1; "
                                           r"last changes: 0.100:1\)"):
        board.wait_for("GP15", 0, timeout=0.2)
    assert time.monotonic() - started < 2
    with pytest.raises(TimeoutError, match="LED did not become 1 .* never driven"):
        board.wait_for("LED", 1, timeout=0.05)
