"""A DHT11/DHT22 lesson on the virtual board (`import dht`): readings set from outside (the Python API and
`python -m sim pins DHT16=...`) are what the program prints, a change shows at the next read, and a sensor
that is missing, on the wrong pin, or read too soon raises the OSError a real one does."""

import re

from sim.board import _simdevices as devices
from sim.pins import Board
from tests.sim.sim_helpers import PROGRAMS, cli as sim


def test_a_dht22_read_every_two_seconds_prints_what_is_set_and_then_the_change(launch, tmp_path):
    Board(tmp_path).set_dht(16, 21.5, 40)
    run = launch("dht22.py", board_dir=tmp_path)
    assert run.expect(r"^Temperature:", timeout=5).string == "Temperature: 21.5 C  Humidity: 40.0 %"
    run.board.set_dht("GP16", -3.2, 55.5)   # a frosty morning: the sign bit of the DHT22's data
    run.expect(r"^Temperature: -3.2 C  Humidity: 55.5 %$", timeout=5)
    old, new = "Temperature: 21.5 C  Humidity: 40.0 %", "Temperature: -3.2 C  Humidity: 55.5 %"
    lines = run.lines()
    assert lines[:1] == [old] and lines[-1] == new and set(lines) == {old, new}, lines
    assert len(lines) <= 3      # one read every two seconds: the change shows at the next, or the one after
    assert run.process.poll() is None, run.output()


def test_a_dht11_gives_whole_numbers_within_its_range(launch, tmp_path):
    Board(tmp_path).set_dht(16, 61.4, 40.6)     # beyond the DHT11's 0..50 C
    run = launch("dht22.py", "DHT11", board_dir=tmp_path)
    assert run.expect(r"^Temperature:", timeout=5).string == "Temperature: 50 C  Humidity: 41 %"


def test_a_missing_sensor_a_wrong_pin_and_a_read_too_soon_raise_etimedout(launch, tmp_path):
    run = launch("dht_mistakes.py", board_dir=tmp_path)
    assert run.wait(10) == 0
    told = "sim: no DHT sensor on GP%d: nothing set there (set one: python -m sim pins --board %s DHT%d=21.5,40)"
    assert run.lines() == [told % (15, tmp_path, 15),     # on stderr, once a pin: why, and what to do
                           "GP15: failed to read the sensor: [Errno 110] ETIMEDOUT",
                           told % (16, tmp_path, 16),
                           "GP16: failed to read the sensor: [Errno 110] ETIMEDOUT",
                           "GP16: failed to read the sensor: [Errno 110] ETIMEDOUT"]
    Board(tmp_path).set_dht(16, 19.0, 60)
    run = launch("dht_mistakes.py", board_dir=tmp_path)
    assert run.wait(10) == 0
    lines = run.lines()
    assert lines[1:3] == ["GP15: failed to read the sensor: [Errno 110] ETIMEDOUT", "GP16: 19.0 C"]
    assert re.fullmatch(r"sim: DHT22 on GP16 read \d+ ms after the previous reading: it needs 2 s between two",
                        lines[3]), lines
    assert lines[4:] == ["GP16: failed to read the sensor: [Errno 110] ETIMEDOUT"]


def test_sim_pins_sets_a_dht_and_shows_it_and_refuses_a_bad_reading(tmp_path):
    done = sim("pins", "--board", tmp_path, "DHT16=21.5,40")
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"sim: DHT16 set to 21.5,40 on {tmp_path}\n"
    assert "  DHT16 21.5,40" in sim("pins", "--board", tmp_path).stdout.splitlines()
    for bad in ("DHT16=warm", "DHT16=21.5", "DHT16=21,140", "DHT31=21,40"):
        done = sim("pins", "--board", tmp_path, bad)
        assert done.returncode == 2, bad
        assert re.fullmatch(r"sim: (DHT16 takes TEMPERATURE,HUMIDITY .*|no such DHT pin: DHT31 .*)\n",
                            done.stderr), done.stderr
    assert Board(tmp_path).driven() == {"DHT16": "21.5,40"}
    assert sim("pins", "--board", tmp_path, "--release", "DHT16").returncode == 0
    assert Board(tmp_path).driven() == {}


def test_a_missing_sensor_uncaught_ends_the_program_with_the_oserror(tmp_path):
    program = tmp_path / "read.py"
    program.write_text("import dht\nfrom machine import Pin\nd = dht.DHT22(Pin(16))\nd.measure()\n")
    done = sim("run", program)
    assert done.returncode == 1
    assert done.stdout.splitlines()[-1] == "OSError: [Errno 110] ETIMEDOUT"


def test_readings_parse_as_the_board_reads_them():
    assert devices.parse_reading("DHT16", "-3.25,0") == (-3.25, 0.0)
    assert devices.sensor_name("dht16") == "DHT16" and devices.sensor_name("GP16") is None
    assert devices.sensor_name("DHTGP7") == "DHT7"


def test_sim_run_pin_sets_the_sensor_before_the_program_starts_and_refuses_a_bad_one(tmp_path):
    # What a learner types: one command, no board folder to find first.
    done = sim("run", PROGRAMS / "dht22.py", "--pin", "DHT16=23.4,51", "--for", "1.5", "--board", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:1] == ["Temperature: 23.4 C  Humidity: 51.0 %"], done.stdout
    for bad in ("DHT16=hot", "GP99=1", "GP14"):
        done = sim("run", PROGRAMS / "dht22.py", "--pin", bad, "--board", tmp_path / "refused")
        assert done.returncode == 2 and done.stdout == "", (bad, done.stdout)
        assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("sim: "), done.stderr
        assert not (tmp_path / "refused" / "pins.log").exists()     # nothing ran
