"""Which boards deploy goes ahead with."""

import pytest

from deploy import checks

PICO2W = "Raspberry Pi Pico 2 W with RP2350"
PICOW = "Raspberry Pi Pico W with RP2040"


def info(machine, version=(1, 25, 0), virtual=False):
    return {"machine": machine, "version": list(version), "virtual": virtual}


@pytest.mark.parametrize("board, force, verdict", [
    (info(PICO2W), False, "ok"),
    (info(PICO2W, (1, 29, 0)), False, "ok"),
    (info(PICOW), False, "warn"),
    (info("Raspberry Pi Pico with RP2040"), False, "refuse"),
    (info("Raspberry Pi Pico with RP2040"), True, "warn"),
    (info("ESP32 module with ESP32"), False, "refuse"),
    (info("linux [GCC 14.2.1] version"), False, "refuse"),       # a bare unix port
    (info("linux [GCC 14.2.1] version", virtual=True), False, "ok"),   # the virtual board
    (info(PICO2W, (1, 24, 1)), False, "refuse"),
    (info(PICO2W, (1, 24, 1)), True, "refuse"),                  # too old even with --force
])
def test_verdicts(board, force, verdict):
    assert checks.assess(board, force)[0] == verdict


def test_too_old_says_which_and_where_from():
    verdict, words = checks.assess(info(PICO2W, (1, 22, 2)))
    assert "MicroPython 1.22.2 is too old" in words and "1.25.0 or newer" in words
    assert "micropython.org" in words


def test_refusal_names_the_board_and_the_way_out():
    words = checks.assess(info("ESP32 module with ESP32"))[1]
    assert "ESP32 module with ESP32" in words and "--force" in words


def test_only_real_picos_need_wifi():
    assert checks.is_real_pico(info(PICO2W))
    assert not checks.is_real_pico(info("linux", virtual=True))


@pytest.mark.parametrize("board, wifi, host, force, problem", [
    (info(PICO2W), "home", "192.168.1.20", False, None),
    (info(PICO2W), None, "192.168.1.20", False, "give --wifi SSID"),
    (info(PICO2W), "home", "127.0.0.1", False, "would be the board itself"),
    (info(PICO2W), "home", "localhost", False, "would be the board itself"),
    (info(PICO2W), None, "127.0.0.1", True, None),
    (info("linux", virtual=True), None, "127.0.0.1", False, None),   # the virtual board's network is the host's
])
def test_a_pico_must_be_able_to_reach_the_broker(board, wifi, host, force, problem):
    found = checks.network_problem(board, wifi, host, force)
    assert (found is None) if problem is None else (problem in found)
