"""Honest limits: what a Pico has and the virtual board does not simulate (PIO, the second core,
Bluetooth, UART, ...) ends the program with one line naming it and pointing to the docs, status 1,
even inside a program's `try/except Exception`; and a traceback shows the program's own lines, not
the board's frames."""

import pytest

from tests.sim.sim_helpers import PROGRAMS, cli as sim

DOCS = "see docs/virtual-board.md"


def test_a_pio_program_fails_with_one_line():
    done = sim("run", PROGRAMS / "pio_blink.py")
    assert done.returncode == 1
    assert done.stdout == "before\n"
    assert done.stderr.splitlines()[1:] == [f"sim: rp2.asm_pio (PIO) is not simulated: {DOCS}"]


@pytest.mark.parametrize("reach, line", [
    ("thread", "_thread.start_new_thread (the second core)"),
    ("bluetooth", "bluetooth (BLE)"),
    ("uart", "machine.UART"),
    ("statemachine", "rp2.StateMachine (PIO)"),
])
def test_each_limit_is_one_line_an_except_cannot_hide(reach, line):
    done = sim("run", PROGRAMS / "limits.py", reach)
    assert done.returncode == 1
    assert done.stdout == "before\n"                  # no "caught", no "after", no traceback
    assert done.stderr.splitlines()[1:] == [f"sim: {line} is not simulated: {DOCS}"]


def test_a_traceback_names_only_the_programs_file():
    done = sim("run", PROGRAMS / "crash.py")
    assert done.returncode == 1
    program = str(PROGRAMS / "crash.py")
    assert done.stdout.splitlines() == [
        "Traceback (most recent call last):",
        f'  File "{program}", line 15, in <module>',
        f'  File "{program}", line 12, in main',
        f'  File "{program}", line 8, in fade',
        "ValueError: freq too small",
    ]


def test_a_traceback_keeps_the_programs_own_modules(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "helper.py").write_text("from machine import Pin\n\ndef light():\n    Pin(99)\n")
    program = tmp_path / "main.py"
    program.write_text("import helper\nhelper.light()\n")
    done = sim("run", program)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "Traceback (most recent call last):",
        f'  File "{program}", line 2, in <module>',
        f'  File "{tmp_path}/lib/helper.py", line 4, in light',
        "ValueError: invalid pin",
    ]
