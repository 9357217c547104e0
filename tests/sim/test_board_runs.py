"""Programs on the virtual board in the real MicroPython interpreter, through sim.runner's API:
outputs, inputs (press schedule, host drives, IRQs), ADC, Wi-Fi, watchdog and reset."""

import re

import pytest

from sim.board import _simformat as fmt


def test_trace_lines_come_in_order_with_the_prints(launch):
    run = launch("blink.py", trace=True)
    assert run.wait(10) == 0
    lines = [re.sub(r"^TRACE [0-9.]+ ", "TRACE ", line) for line in run.lines()]
    assert lines == ["TRACE GP15 0",
                     "TRACE GP15 1", "on 0", "TRACE GP15 0", "off 0",
                     "TRACE GP15 1", "on 1", "TRACE GP15 0", "off 1",
                     "TRACE GP15 1", "on 2", "TRACE GP15 0", "off 2", "done"]
    times = [float(line.split()[1]) for line in run.lines() if line.startswith("TRACE")]
    assert times == sorted(times)


def test_without_trace_the_changes_go_only_to_the_log(launch, tmp_path):
    run = launch("blink.py", board_dir=tmp_path)
    assert run.wait(10) == 0
    assert not [line for line in run.lines() if line.startswith("TRACE")]
    levels = [level for _, _, level in run.board.changes("GP15")]
    assert levels == [0, 1, 0, 1, 0, 1, 0]


def test_a_scheduled_press_is_seen_low_between_its_start_and_end(launch):
    run = launch("poll_button.py", "1.2", press=["14@0.4:0.3"])
    assert run.wait(10) == 0
    assert run.lines()[0] == "start 1"
    seen = [re.match(r"level (\d) at ([0-9.]+)", line) for line in run.lines()[1:-1]]
    assert [int(m[1]) for m in seen] == [0, 1]
    assert 0.4 <= float(seen[0][2]) < 0.55  # polled every 5 ms; slack for a busy machine
    assert 0.7 <= float(seen[1][2]) < 0.85


def test_host_drives_an_input_and_waits_for_an_output(launch):
    run = launch("echo.py")
    run.expect("ready")
    board = run.board
    board.wait_for(15, 1, timeout=5)
    board.press(14)
    t_low = board.wait_for("GP15", 0, timeout=5)
    board.release(14)
    t_high = board.wait_for("GP15", 1, timeout=5, since=t_low)
    assert 0 < t_low < t_high <= board.now()
    assert [level for _, _, level in board.changes(15)] == [1, 0, 1]
    assert board.outputs() == {"GP15": 1}


@pytest.mark.parametrize("waiting_in", ["sleep", "asyncio"])
def test_an_irq_handler_runs_on_driven_edges_while_the_program_waits(launch, waiting_in):
    run = launch("irq_counter.py", waiting_in)
    run.expect("ready")
    run.board.press(14)
    run.expect(r"^edge 1 level 0 flags 4$", timeout=3)
    run.board.release(14)
    run.expect(r"^edge 2 level 1 flags 8$", timeout=3)


def test_an_irq_handler_runs_on_scheduled_presses(launch):
    run = launch("irq_counter.py", "asyncio", press=["14@0.2:0.1"])
    run.expect(r"^edge 1 level 0 flags 4$", timeout=3)
    run.expect(r"^edge 2 level 1 flags 8$", timeout=3)


def test_irqs_stay_correct_while_the_program_allocates_and_collects(launch):
    run = launch("irq_stress.py")
    run.expect("ready")
    for n in range(1, 31):
        if n % 2:
            run.board.press(14)
        else:
            run.board.release(14)
        run.expect(r"^edge %d level %d$" % (n, 0 if n % 2 else 1), timeout=3)
    assert run.process.poll() is None, run.output()


def test_adc_reads_default_temperature_then_what_the_host_sets(launch, tmp_path):
    run = launch("adc.py")
    run.expect(r"^adc4 14089 temp 25\.0 adc0 0$")
    run.board.set_temperature(30.5)
    run.expect(r"^adc4 %d temp 30\.5 adc0 0$" % fmt.temp_to_raw(30.5))
    run.board.drive("ADC0", 40000)
    run.expect(r"adc0 40000$")
    run.board.drive("ADC4", 12000)
    run.expect(r"^adc4 12000 ")
    run.board.release("ADC4")
    run.expect(r"^adc4 14089 temp 25\.0 adc0 40000$")


def test_wlan_connects_drops_and_reconnects(launch):
    run = launch("wlan.py")
    run.expect(r"^idle 0 False$")
    run.expect(r"^mac 6 host virtual country GB$")
    run.expect(r"^status 1 connected False")
    run.expect(r"^status 3 connected True ip 127\.0\.0\.1$", timeout=3)
    run.board.wlan(False)
    run.expect(r"^status -1 connected False ip 0\.0\.0\.0$", timeout=3)
    run.expect(r"^status -2 ", timeout=3)  # reconnecting while no access point is there
    run.board.wlan(True)
    run.expect(r"^status 3 connected True", timeout=3)


def test_wlan_finds_only_the_virtual_access_point(launch):
    run = launch("wlan.py", "home", "secret")
    run.expect(r"^status 1 ")
    run.expect(r"^status -2 connected False", timeout=3)   # no access point found with that name


def test_wlan_checks_the_access_points_password_when_it_has_one(launch):
    run = launch("wlan.py", "sim-ap", "wrong", env={"SIM_AP_PASSWORD": "right"})
    run.expect(r"^status 1 ")
    run.expect(r"^status -3 connected False", timeout=3)
    run = launch("wlan.py", "sim-ap", "right", env={"SIM_AP_PASSWORD": "right"})
    run.expect(r"^status 3 connected True", timeout=3)


def test_wlan_connect_can_be_made_to_fail(launch):
    run = launch("wlan.py", env={"SIM_WIFI_FAIL": "-3"})
    run.expect(r"^status 1 ")
    run.expect(r"^status -3 connected False", timeout=3)


@pytest.mark.parametrize("mode", ["late", "starved"])
def test_a_watchdog_not_fed_in_time_ends_the_program_with_status_3(launch, mode):
    run = launch("wdt.py", mode)
    assert run.wait(10) == 3
    assert "sim: watchdog would have reset the board" in run.lines()
    assert "survived" not in run.lines()


def test_a_watchdog_fed_in_time_does_nothing(launch):
    run = launch("wdt.py", "fed")
    assert run.wait(10) == 0
    assert run.lines()[-1] == "survived"


def test_machine_api_behaves_like_the_pico(launch):
    run = launch("machine_api.py", env={"SIM_UNIQUE_ID": "0102030405060708"})
    assert run.wait(10) == 0, run.output()
    assert run.lines()[-1] == "ALL OK", run.output()


def test_machine_reset_ends_the_program_with_status_4(launch):
    run = launch("reset.py")
    assert run.wait(10) == 4
    assert run.lines() == ["resetting",
                           "sim: machine.reset() called: a real board would reboot here"]


def test_stop_ends_a_program_quietly_with_status_0(launch):
    run = launch("echo.py")
    run.expect("ready")
    assert run.stop() == 0
    assert "Traceback" not in run.output()
    assert not run.killed


def test_umqtt_simple_imports_on_the_board_path(launch):
    run = launch("umqtt_import.py")
    assert run.wait(10) == 0, run.output()
    assert run.lines() == ["umqtt ok MQTTClient"]


def test_expect_fails_fast_when_the_program_ends_and_at_its_deadline(launch):
    from sim.runner import Exited

    run = launch("blink.py")
    run.expect("^done$")
    with pytest.raises(Exited, match=r"ended \(status 0\) without printing a line matching"):
        run.expect("never printed", timeout=30)
    run = launch("forever.py")
    with pytest.raises(TimeoutError, match="no line matching 'never' within 0.2 s"):
        run.expect("never", timeout=0.2)
