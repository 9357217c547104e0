"""An IRQ lesson on the virtual board: `micropython.alloc_emergency_exception_buf()` first, as
MicroPython's ISR rules teach (the unix interpreter has none of its own), then a button's handler that
counts and schedules its printing."""

from tests.sim.sim_helpers import PROGRAMS, cli as sim


def test_an_irq_lesson_with_the_emergency_exception_buffer_runs_and_counts_the_press():
    done = sim("run", PROGRAMS / "irq_button.py", "--press", "14@0.3")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == ["pressed 1", "done 3 1"]


def test_the_buffer_size_must_be_a_number_as_on_a_pico(tmp_path):
    program = tmp_path / "bad.py"
    program.write_text("import micropython\nmicropython.alloc_emergency_exception_buf('100')\n")
    done = sim("run", program)
    assert done.returncode == 1
    assert done.stdout.splitlines()[-1] == "TypeError: can't convert str to int"
