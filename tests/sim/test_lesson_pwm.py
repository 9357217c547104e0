"""A PWM lesson on the virtual board (`machine.PWM`): an LED faded in shows its duty rising in
`--trace` (`TRACE <t> GP15 pwm 0.42`), and `sim pins` shows it; freq(), duty_u16() and duty_ns()
read back as the rp2 port computes them from the slice's registers."""

import re

import pytest

from tests.sim.sim_helpers import cli as sim, error_of


def test_a_fade_shows_the_duty_rising_in_the_trace(launch):
    run = launch("pwm_fade.py", trace=True)
    assert run.wait(10) == 0, run.output()
    lines = run.lines()
    assert lines[0] == "freq 1000"
    duties = [float(m[1]) for m in (re.match(r"^TRACE [0-9.]+ GP15 pwm ([01]\.\d\d)$", line) for line in lines) if m]
    assert duties[:17] == pytest.approx([i * 4096 / 65535 for i in range(16)] + [1.0], abs=0.006)
    assert duties == sorted(duties[:17]) + [0.25]       # rising, then set by duty_ns
    assert "duty_u16 65535 duty_ns 1000002" in lines    # the rp2 port's rounding at 1 kHz
    assert "duty_u16 at 250000 ns 16383" in lines
    assert lines[-1] == "done"
    assert not [line for line in lines if re.match(r"^TRACE [0-9.]+ GP15 [01]$", line)]   # no level: PWM


def test_the_duty_is_read_from_outside_and_shown_by_sim_pins(launch, tmp_path):
    program = tmp_path / "dim.py"
    program.write_text("import time\nfrom machine import Pin, PWM\n"
                       "led = PWM(Pin(15), freq=500, duty_u16=27525)\nprint('lit')\n"
                       "while True:\n    time.sleep(1)\n")
    board_dir = tmp_path / "board"
    run = launch(program, board_dir=board_dir)
    run.expect("^lit$")
    assert [duty for _, duty in run.board.pwm(15)] == [0.42]
    shown = sim("pins", "--board", board_dir).stdout.splitlines()
    assert "  GP15 pwm 0.42" in shown


@pytest.mark.parametrize("code, printed", [
    # GP14 and GP15 share slice 7: one frequency
    ("a = PWM(Pin(14), freq=2000); b = PWM(Pin(15), freq=5000); print(a.freq(), b.freq(), a)",
     "5000 5000 <PWM slice=7 channel=0 invert=0>"),
    # below 65535 steps of 150 MHz the divider comes in, and the freq read back is the nearest it makes
    ("print(PWM(Pin(0), freq=50).freq(), PWM(Pin(2), freq=10).freq())", "50 10"),
    ("p = PWM(Pin(15), freq=1000, duty_u16=32768, invert=1); print(p.duty_u16(), p.duty_ns())",
     "32768 500009"),
])
def test_readbacks_are_the_rp2_ports(tmp_path, code, printed):
    program = tmp_path / "pwm.py"
    program.write_text("from machine import Pin, PWM\n" + code + "\n")
    done = sim("run", program)
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines() == [printed]


@pytest.mark.parametrize("code, error", [
    ("PWM(Pin(15), freq=5)", "ValueError: freq too small"),
    ("PWM(Pin(15), freq=400_000_000)", "ValueError: freq too large"),   # above twice the clock
    ("PWM(Pin(15), freq=1000, duty_ns=2_000_000)", "ValueError: duty larger than period"),
    ("PWM(Pin('LED'))", "ValueError: "),
])
def test_what_the_rp2_port_refuses_is_refused(tmp_path, code, error):
    last = error_of(tmp_path, "from machine import Pin, PWM\n" + code + "\n")
    assert last.startswith(error), last


def test_deinit_stops_the_slice_and_a_trace_shows_it_dark(tmp_path):
    program = tmp_path / "pwm.py"
    program.write_text("from machine import Pin, PWM\np = PWM(Pin(15), freq=1000, duty_u16=65535)\n"
                       "p.deinit()\np.duty_u16(16384)\n")
    done = sim("run", program, "--trace")
    assert done.returncode == 0, done.stdout
    assert [line.split(" ", 2)[2] for line in done.stdout.splitlines()] == [
        "GP15 pwm 1.00", "GP15 pwm 0.00", "GP15 pwm 0.25"]
