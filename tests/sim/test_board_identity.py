"""The virtual board's identity, as a Pico 2 W gives it: os.uname(), machine.freq() (settable to
what the RP2350's PLL can make), rp2.bootsel_button() driven from outside like a pin; and what the
interpreter answers itself (sys.platform 'linux'), which docs/virtual-board.md lists."""

import re

import pytest

from sim.board import _simformat as fmt
from tests.sim.sim_helpers import REPO, cli as sim


def test_the_board_says_it_is_a_pico_2_w(launch):
    run = launch("identity.py")
    assert run.wait(10) == 0, run.output()
    lines = run.lines()
    uname = re.match(r"^\(sysname='rp2', nodename='rp2', release='(\d+\.\d+\.\d+[-a-z]*)', "
                     r"version='([^']+)', machine='Raspberry Pi Pico 2 W with RP2350'\)$", lines[0])
    assert uname, lines[0]
    assert lines[1:] == ["machine Raspberry Pi Pico 2 W with RP2350",
                         "freq 150000000",
                         "overclocked 200000000",
                         "refused cannot change frequency",
                         "platform linux"]           # the interpreter's own: see the docs


def test_what_the_board_cannot_change_is_in_the_docs():
    docs = (REPO / "docs" / "virtual-board.md").read_text()
    assert "`sys.platform`" in docs and "`sys.implementation._machine`" in docs


def test_bootsel_is_pressed_and_released_from_outside(launch, tmp_path):
    run = launch("bootsel.py", board_dir=tmp_path)
    run.expect(r"^ready 0$")
    pressed = sim("pins", "--board", tmp_path, "BOOTSEL=1")
    assert pressed.returncode == 0 and pressed.stderr == f"sim: BOOTSEL driven to 1 on {tmp_path}\n"
    run.expect(r"^bootsel 1$", timeout=3)
    run.board.release("BOOTSEL")
    run.expect(r"^bootsel 0$", timeout=3)
    run.board.drive("bootsel", 1)                    # the Python API, any case
    run.expect(r"^bootsel 1$", timeout=3)


@pytest.mark.parametrize("value", ["2", "on", ""])
def test_bootsel_takes_0_or_1(tmp_path, value):
    done = sim("pins", "--board", tmp_path, "BOOTSEL=" + value)
    assert done.returncode == 2
    assert done.stderr == f"sim: BOOTSEL takes 0 or 1, not {value}\n"
    assert not (tmp_path / "pins.in").exists()


def test_bootsel_is_an_input_name_both_sides_agree_on():
    assert fmt.input_name(" bootsel ") == "BOOTSEL"
    assert fmt.parse_pins_in("BOOTSEL 1\n") == {"BOOTSEL": 1}
