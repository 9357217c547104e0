# Pure-module cases: plain functions and asserts, run by pytest and by tests/node/mp_run.py under MicroPython.
from thermo import temp_c


def test_27_degrees_at_0_706_volts():
    raw = round(0.706 / 3.3 * 65535)
    assert temp_c(raw) == 27.0


def test_lower_voltage_is_warmer():
    raw = round((0.706 - 10 * 0.001721) / 3.3 * 65535)
    assert temp_c(raw) == 37.0
