"""An I2C lesson on the virtual board (machine.I2C, SoftI2C): a scan lists the shipped AHT20 (0x38) while
its reading is set from outside and reading it gives that reading, changes included; a program's own
devices (a sim_devices.py beside it, through the device interface in _simi2c) answer every reading and
writing call; a missing address is the rp2 port's OSError (EIO; ENODEV from SoftI2C)."""

import re

import pytest

from tests.sim.sim_helpers import cli as sim
from sim.pins import Board


def test_a_scan_finds_the_aht20_and_reads_what_is_set_then_the_change(launch, tmp_path):
    done = sim("pins", "--board", tmp_path, "AHT20=21.5,40")
    assert done.returncode == 0, done.stderr
    run = launch("i2c_scan.py", board_dir=tmp_path)
    assert run.expect("^I2C devices found").string == "I2C devices found: ['0x38']"
    assert run.expect("^Temperature").string == "Temperature: 21.5 C  Humidity: 40.0 %"
    run.board.set_aht20(-5.25, 87.5)
    run.expect(r"^Temperature: -5\.2 C  Humidity: 87\.5 %$", timeout=3)   # %.1f of -5.25, 20 bits
    assert run.process.poll() is None, run.output()


def test_the_scan_and_the_sensors_transactions_show_in_trace(launch, tmp_path):
    Board(tmp_path).set_aht20(21.5, 40)
    run = launch("i2c_scan.py", trace=True, board_dir=tmp_path)
    run.expect("^Temperature")
    lines = [re.sub(r"^TRACE [0-9.]+ ", "TRACE ", line) for line in run.lines()]
    assert lines[:3] == ["TRACE I2C0 scan 0x38", "I2C devices found: ['0x38']", "TRACE I2C0 0x38 write ac3300"]
    assert lines[-2:] == ["TRACE I2C0 0x38 read 18666665b85243",      # status, 40 %, 21.5 C, CRC
                          "Temperature: 21.5 C  Humidity: 40.0 %"]
    assert set(lines[3:-2]) <= {"TRACE I2C0 0x38 read 98", "TRACE I2C0 0x38 read 18"}   # status polls


def test_without_a_reading_the_aht20_is_not_on_the_bus(launch, tmp_path):
    run = launch("i2c_scan.py", board_dir=tmp_path)
    assert run.wait(10) == 1
    lines = run.lines()
    assert lines[0] == "I2C devices found: []"
    assert lines[-1] == "OSError: [Errno 5] EIO"


def test_a_programs_own_devices_answer_every_call(launch):
    run = launch("i2c_device/main.py")
    assert run.wait(10) == 0, run.output()
    assert run.lines() == [
        "scan ['0x48', '0x50']",
        "who am i 0xa5",
        "counter 1 2",
        "registers [1, 2, 3]",
        "wrote 3",
        "echo b'cba'",
        "echo into b'cb'",
        "then b'zy'",
        "I2C at 0x3c: [Errno 5] EIO",
        "soft scan ['0x48', '0x50']",
        "SoftI2C at 0x3c: [Errno 19] ENODEV",
        "I2C(1) on GP5/GP4: bad SCL pin",
    ]


def test_the_aht20_answers_with_its_status_and_crc(tmp_path):
    Board(tmp_path).set_aht20(25, 50)
    program = tmp_path / "raw.py"
    program.write_text(
        "import time\nfrom machine import I2C, SoftI2C, Pin\n"
        "i2c = SoftI2C(scl=Pin(3), sda=Pin(2))\n"
        "i2c.writeto(0x38, b'\\xbe\\x08\\x00')\n"
        "i2c.writeto(0x38, b'\\xac\\x33\\x00')\n"
        "print(hex(i2c.readfrom(0x38, 1)[0]))\n"        # busy: the 80 ms have not passed
        "time.sleep_ms(90)\n"
        "print(i2c.readfrom(0x38, 7).hex())\n")
    done = sim("run", program, "--board", tmp_path)
    assert done.returncode == 0, done.stdout
    status, data = done.stdout.splitlines()
    assert status == "0x98"
    raw = bytes.fromhex(data)
    assert raw[0] == 0x18
    assert (raw[1] << 12 | raw[2] << 4 | raw[3] >> 4) == 1 << 19        # 50 %: half of 2**20
    assert ((raw[3] & 0xF) << 16 | raw[4] << 8 | raw[5]) == 393216      # 25 C: (25 + 50) / 200 * 2**20
    crc = 0xFF
    for b in raw[:6]:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x31) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    assert raw[6] == crc


@pytest.mark.parametrize("bad, message", [
    ("AHT20=hot", "sim: AHT20 takes TEMPERATURE,HUMIDITY (degrees Celsius, percent 0..100), e.g. 21.5,40, not hot"),
    ("BME280=1,2", "sim: unknown input BME280: give GP0..GP29, ADC0..ADC4, TEMP, WLAN or BOOTSEL; a sensor's "
                   "reading: DHT0..DHT29 (the GPIO of a DHT's data line) or AHT20"),
])
def test_a_bad_sensor_setting_is_a_one_line_usage_error(tmp_path, bad, message):
    done = sim("pins", "--board", tmp_path, bad)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", message + "\n")
    assert not (tmp_path / "pins.in").exists()
