"""The virtual board's text formats and option parsing, as pure functions under CPython (the
same _simformat file the board runs under MicroPython)."""

import pytest

from sim import nodeconfig, runner
from sim.board import _simformat as fmt


# --- press schedule ---------------------------------------------------------------------------

def test_press_items_give_pin_start_and_end():
    assert fmt.parse_press("14@1.0:0.3,GP13@2.5") == [("GP14", 1.0, 1.3), ("GP13", 2.5, 2.7)]


def test_press_hold_defaults_to_a_fifth_of_a_second():
    assert fmt.parse_press("gp7@0") == [("GP7", 0.0, 0.2)]


@pytest.mark.parametrize("bad", ["14", "14@", "@1", "14@x", "14@1:y", "14@1:2:3", "14@-1",
                                 "99@1", "LED@1", "14@1@2", "14@1:0", "nan@1", "14@nan"])
def test_bad_press_items_say_the_expected_form(bad):
    with pytest.raises(ValueError, match="PIN@START"):
        fmt.parse_press(bad)


def test_press_schedule_round_trips_through_its_text():
    schedule = fmt.parse_press("14@1.0:0.3,13@2.5:0.25")
    assert fmt.parse_press(fmt.format_press(schedule)) == schedule


def test_a_press_holds_the_pin_low_from_start_to_end_only():
    schedule = fmt.parse_press("14@1.0:0.3")
    assert not fmt.pressed(schedule, "GP14", 0.99)
    assert fmt.pressed(schedule, "GP14", 1.0)
    assert fmt.pressed(schedule, "GP14", 1.29)
    assert not fmt.pressed(schedule, "GP14", 1.3)
    assert not fmt.pressed(schedule, "GP13", 1.1)


def test_runner_joins_press_options_and_rejects_empty_ones():
    assert fmt.parse_press(runner.parse_presses(["14@1", "13@2:0.5,15@3"])) == [
        ("GP14", 1.0, 1.2), ("GP13", 2.0, 2.5), ("GP15", 3.0, 3.2)]
    with pytest.raises(ValueError, match="PIN@START"):
        runner.parse_presses([""])


# --- pins.in ----------------------------------------------------------------------------------

def test_pins_in_gives_numbers_and_temperature_as_adc4():
    text = "GP14 0\nGP13 1\nWLAN 0\nADC0 1234\nTEMP 30.5\n"
    assert fmt.parse_pins_in(text) == {"GP14": 0, "GP13": 1, "WLAN": 0, "ADC0": 1234,
                                       "ADC4": fmt.temp_to_raw(30.5)}


def test_pins_in_later_lines_win_and_junk_is_skipped():
    text = "GP14 0\n# a comment\nGP14 1\nGP14\nGP99 0\nGP13 2\nADC4 70000\nLED 1\nTEMP hot\n\n"
    assert fmt.parse_pins_in(text) == {"GP14": 1}


def test_pins_in_round_trips():
    lines = [("GP14", "0"), ("TEMP", "21.5")]
    assert fmt.parse_pins_in(fmt.format_pins_in(lines)) == {"GP14": 0,
                                                            "ADC4": fmt.temp_to_raw(21.5)}


@pytest.mark.parametrize("typed, name", [(14, "GP14"), ("14", "GP14"), ("gp14", "GP14"),
                                          ("GPIO3", "GP3"), ("adc4", "ADC4"), ("temp", "TEMP"),
                                          ("wlan", "WLAN")])
def test_input_names_are_normalised(typed, name):
    assert fmt.input_name(typed) == name


@pytest.mark.parametrize("typed", ["LED", "GP30", "ADC5", "X1", ""])
def test_bad_input_names_are_refused(typed):
    with pytest.raises(ValueError):
        fmt.input_name(typed)


@pytest.mark.parametrize("name, text", [("GP14", "2"), ("WLAN", "yes"), ("ADC0", "-1"),
                                         ("ADC4", "65536"), ("TEMP", "warm")])
def test_bad_input_values_are_refused(name, text):
    with pytest.raises(ValueError, match=name):
        fmt.parse_input_value(name, text)


# --- pin names as machine.Pin takes them -------------------------------------------------------

def test_board_pin_names_follow_the_rp2_port():
    assert fmt.board_pin_name(0) == "GP0"
    assert fmt.board_pin_name("GP29") == "GP29"
    assert fmt.board_pin_name("WL_GPIO0") == "LED"
    with pytest.raises(ValueError, match="^invalid pin$"):
        fmt.board_pin_name(30)
    with pytest.raises(ValueError, match='unknown named pin "gp1"'):
        fmt.board_pin_name("gp1")  # names are case-sensitive on the real board
    with pytest.raises(ValueError, match='unknown named pin "GP01"'):
        fmt.board_pin_name("GP01")


# --- temperature and the change log -----------------------------------------------------------

def test_temperature_conversion_matches_the_rp2_formula():
    assert fmt.temp_to_raw(25.0) == round((0.706 - (25 - 27) * 0.001721) / 3.3 * 65535) == 14089
    for c in (-10.0, 0.0, 27.0, 30.5, 60.0):
        assert fmt.raw_to_temp(fmt.temp_to_raw(c)) == pytest.approx(c, abs=0.05)


def test_change_lines_round_trip_and_others_are_ignored():
    line = fmt.format_change(1.30249, "GP15", 1)
    assert line == "1.302 GP15 1"
    assert fmt.parse_change(line) == (1.302, "GP15", 1)
    assert fmt.parse_change("# t0_ns 123") is None
    assert fmt.parse_change("1.302 GP1") is None
    assert fmt.parse_change("") is None


# --- the node's configuration overrides -------------------------------------------------------

def test_config_local_sets_broker_id_and_literal_settings():
    pairs = [nodeconfig.parse_setting(s) for s in
             ["HEARTBEAT_S=2", "NAME=hello world", "FLAG=True", "PERIODS=[1, 2]", "QUOTED='x'"]]
    scope = {}
    exec(nodeconfig.config_local("127.0.0.1:18830", "dev-1", pairs), scope)
    assert (scope["BROKER_HOST"], scope["BROKER_PORT"], scope["DEVICE_ID"]) == (
        "127.0.0.1", 18830, "dev-1")
    assert (scope["HEARTBEAT_S"], scope["NAME"], scope["FLAG"], scope["PERIODS"],
            scope["QUOTED"]) == (2, "hello world", True, [1, 2], "x")


def test_config_local_without_options_joins_the_virtual_access_point_and_sets_nothing_else():
    scope = {}
    exec(nodeconfig.config_local(), scope)
    assert [k for k in scope if not k.startswith("__")] == ["WIFI_SSID"]
    assert scope["WIFI_SSID"] == "sim-ap"


def test_the_board_path_can_be_turned_off():
    scope = {}
    exec(nodeconfig.config_local(None, None, [nodeconfig.parse_setting("WIFI_SSID=None")]), scope)
    assert scope["WIFI_SSID"] is None


@pytest.mark.parametrize("bad", ["localhost", "host:", ":1883", "host:0", "host:70000", "h:x"])
def test_bad_broker_addresses_are_refused(bad):
    with pytest.raises(ValueError, match="HOST:PORT"):
        nodeconfig.parse_broker(bad)


def test_ipv6_broker_address():
    assert nodeconfig.parse_broker("[::1]:1883") == ("::1", 1883)


@pytest.mark.parametrize("bad", ["NOEQUALS", "=2", "1X=2", "A B=3"])
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError, match="KEY=VALUE"):
        nodeconfig.parse_setting(bad)


# --- the interpreter's search path ------------------------------------------------------------

def test_micropython_path_order(tmp_path):
    program = tmp_path / "main.py"
    path = runner.micropython_path(program, overrides_dir="/over")
    assert path == ["/over", str(runner.BOARD_CODE), str(tmp_path), str(tmp_path / "lib"),
                    str(runner.deps.lib_dir()), ".frozen"]
