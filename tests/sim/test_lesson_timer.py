"""A Timer lesson on the virtual board (`machine.Timer`): the rp2 port's soft timers on the board's
clock. A blink driven by a Timer toggles the LED at the timer's period, also after the program's
end (as a Pico's REPL keeps its timers); a one-shot fires once while the program sleeps, and
deinit() stops a periodic one."""

import re

import pytest

from tests.sim.sim_helpers import PROGRAMS, cli as sim, error_of

PERIOD_S = 0.2  # timer_blink.py: freq=5


def _toggles(run):
    """[(t, level)] of the GP15 TRACE lines the program printed."""
    found = [re.match(r"^TRACE ([0-9.]+) GP15 ([01])$", line) for line in run.lines()]
    return [(float(m[1]), int(m[2])) for m in found if m]


def test_a_timer_blinks_the_led_at_its_period_after_the_program_ends(launch):
    run = launch("timer_blink.py", trace=True)
    run.expect(r"^blinking: Timer\(mode=PERIODIC, period=200\)$")
    for _ in range(5):
        run.expect(r"^TRACE [0-9.]+ GP15 [01]$", timeout=2)
    assert run.process.poll() is None          # the program has ended; its timer runs on
    assert run.stop() == 0
    toggles = _toggles(run)
    assert toggles[0][1] == 0                   # the pin becomes an output, low
    levels = [level for _, level in toggles[1:]]
    assert levels[:5] == [1, 0, 1, 0, 1]
    times = [t for t, _ in toggles[1:]]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(PERIOD_S - 0.03 < gap < PERIOD_S + 0.06 for gap in gaps), gaps
    # due every period from the start, not from the last call: no drift over the run
    assert abs((times[-1] - times[0]) - PERIOD_S * (len(times) - 1)) < 0.06, times


def test_the_board_says_its_timer_runs_on(tmp_path):
    done = sim("run", PROGRAMS / "timer_blink.py", "--for", "0.5", "--board", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "sim: the program has ended; its Timer runs on, as on a Pico (Ctrl-C stops the board)" in \
        done.stderr.splitlines()
    levels = [line.split()[2] for line in (tmp_path / "pins.log").read_text().splitlines()[1:]]
    assert levels[:3] == ["0", "1", "0"]


def test_a_one_shot_fires_once_and_deinit_stops_a_periodic_timer(launch):
    run = launch("timer_oneshot.py")
    assert run.wait(10) == 0, run.output()
    shot = re.match(r"^one shot at (\d+)$", run.lines()[0])
    assert shot and 295 <= int(shot[1]) < 360, run.output()
    ticks = re.match(r"^ticks (\d+) after deinit (\d+)$", run.lines()[1])
    assert ticks and 4 <= int(ticks[1]) <= 5 and int(ticks[2]) == 0, run.output()
    assert len(run.lines()) == 2


@pytest.mark.parametrize("code, error", [
    ("Timer(0)", "ValueError: Timer doesn't exist"),
    ("Timer(period=1 << 30, callback=print)", "ValueError: period too large"),
    ("Timer().init(500)", "TypeError: "),
])
def test_a_timer_refuses_what_the_rp2_port_refuses(tmp_path, code, error):
    last = error_of(tmp_path, "from machine import Timer\n" + code + "\n")
    assert last.startswith(error), last


def test_a_timer_fires_while_the_program_waits_in_asyncio(tmp_path):
    program = tmp_path / "timer_asyncio.py"
    program.write_text("import asyncio\nfrom machine import Timer\n\nticks = []\n"
                       "timer = Timer(period=50, callback=lambda t: ticks.append(t))\n\n"
                       "async def main():\n    await asyncio.sleep(0.52)\n\n"
                       "asyncio.run(main())\ntimer.deinit()\n"
                       "print(len(ticks), all(t is timer for t in ticks))\n")
    done = sim("run", program)
    assert done.returncode == 0, done.stdout
    count, same = done.stdout.split()
    assert 9 <= int(count) <= 10 and same == "True", done.stdout
