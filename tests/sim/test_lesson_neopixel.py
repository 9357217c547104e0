"""A NeoPixel lesson on the virtual board (`import neopixel`): each write() is a --trace line with the
strip's colours (short for a long strip), and the last written colours are readable from outside
(Board.neopixel, `python -m sim pins`)."""

import re

import pytest

from sim.board import _simdevices as devices
from tests.sim.sim_helpers import cli as sim

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)
RAINBOW = [(i * 8, 255 - i * 8, 0) for i in range(30)]


def test_a_colour_cycle_is_seen_in_trace_and_read_back_from_outside(launch, tmp_path):
    run = launch("neopixel_cycle.py", trace=True, board_dir=tmp_path)
    assert run.wait(10) == 0, run.output()
    lines = [re.sub(r"^TRACE [0-9.]+ ", "TRACE ", line) for line in run.lines()]
    assert lines[:7] == ["TRACE GP16 0",        # the strip's pin becomes an output
                         "TRACE GP16 neopixel 0-7:ff0000",
                         "TRACE GP16 neopixel 0-7:00ff00",
                         "TRACE GP16 neopixel 0-7:0000ff",
                         "TRACE GP16 neopixel 0:ffffff 1-7:0000ff",
                         "first pixel (255, 255, 255) of 8",
                         "TRACE GP17 0"]
    assert lines[7] == ("TRACE GP17 neopixel 0:00ff00 1:08f700 2:10ef00 3:18e700 4:20df00 5:28d700 "
                        "6:30cf00 7:38c700 ... 30 pixels")       # a long strip: the first runs
    assert lines[8:] == ["done"]
    board = run.board
    assert board.neopixel(16) == [WHITE] + [BLUE] * 7
    assert board.neopixel("GP17") == RAINBOW                    # all of it, from pins.log
    assert [colours[0] for _, colours in board.neopixel_writes(16)] == [RED, GREEN, BLUE, WHITE]
    assert board.neopixel(18) is None
    shown = sim("pins", "--board", tmp_path).stdout.splitlines()
    assert "  GP16 neopixel 0:ffffff 1-7:0000ff" in shown
    assert board.changes() == [(board.changes()[0][0], "GP16", 0), (board.changes()[1][0], "GP17", 0)]


def test_pixels_and_rgbw_behave_as_the_real_driver(tmp_path):
    program = tmp_path / "rgbw.py"
    program.write_text(
        "from machine import Pin\nfrom neopixel import NeoPixel\n"
        "np = NeoPixel(Pin(2), 3, bpp=4)\nnp[-1] = (1, 2, 3, 4)\nnp.write()\n"
        "print(np[2], np[0], len(np), list(np.buf[8:]))\n"
        "try:\n    np[3] = (1, 1, 1, 1)\nexcept IndexError as e:\n    print('IndexError')\n")
    done = sim("run", program, "--trace")
    assert done.returncode == 0, done.stdout
    out = [re.sub(r"^TRACE [0-9.]+ ", "TRACE ", line) for line in done.stdout.splitlines()]
    assert out == ["TRACE GP2 0", "TRACE GP2 neopixel 0-1:00000000 2:01020304",
                   "(1, 2, 3, 4) (0, 0, 0, 0) 3 [2, 1, 3, 4]",     # sent G, R, B, W
                   "IndexError"]


@pytest.mark.parametrize("colours", [[RED], [RED, RED, GREEN], RAINBOW, [(1, 2, 3, 4)] * 2])
def test_the_record_round_trips(colours):
    assert devices.parse_pixels(devices.format_pixels(colours)) == colours
