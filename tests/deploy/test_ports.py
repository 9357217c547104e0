"""Finding the board's port, and noticing another program holding it (a real pty, a real lock)."""

import os
from types import SimpleNamespace

import pytest
import serial

from deploy import ports
from deploy.errors import DeployError


def port(device, vid=None, pid=None, manufacturer=None, product=None):
    return SimpleNamespace(device=device, vid=vid, pid=pid, manufacturer=manufacturer, product=product)


PICO = port("/dev/ttyACM0", 0x2E8A, 0x0005, "MicroPython", "Board in FS mode")
OTHER = port("/dev/ttyUSB0", 0x10C4, 0xEA60, "Silicon Labs", "CP2102")


def test_the_one_board_is_chosen():
    assert ports.choose([OTHER, PICO, port("/dev/ttyS0")]) == "/dev/ttyACM0"


def test_several_boards_are_listed_and_none_chosen():
    second = port("/dev/ttyACM1", 0x2E8A, 0x0005)
    with pytest.raises(DeployError, match="several MicroPython boards") as e:
        ports.choose([PICO, second])
    assert "/dev/ttyACM0 (2e8a:0005" in str(e.value) and "/dev/ttyACM1 (2e8a:0005)" in str(e.value)
    assert "--port" in str(e.value) and e.value.step == "find"


def test_no_board_lists_the_ports_seen():
    with pytest.raises(DeployError) as e:
        ports.choose([OTHER, port("/dev/ttyS0")])
    assert str(e.value).startswith("no MicroPython board found (ports seen: /dev/ttyUSB0 "
                                   "(10c4:ea60, Silicon Labs CP2102), /dev/ttyS0 (no USB id))")
    with pytest.raises(DeployError, match=r"ports seen: none"):
        ports.choose([])


def test_a_missing_port_is_named(tmp_path):
    with pytest.raises(DeployError, match=r"no such port .*/serial \(ports seen: "):
        ports.find(str(tmp_path / "serial"))


@pytest.fixture
def pty_path(tmp_path):
    master, slave = os.openpty()
    link = tmp_path / "serial"
    link.symlink_to(os.ttyname(slave))
    yield str(link)
    os.close(master)
    os.close(slave)


def test_a_free_port_passes(pty_path):
    ports.check_free(pty_path)
    ports.check_free(pty_path)   # and was released


def test_a_port_held_by_another_program_is_named(pty_path):
    holder = serial.Serial(pty_path, exclusive=True)   # as mpremote and Thonny's pyserial hold it
    try:
        with pytest.raises(DeployError, match="is in use by another program") as e:
            ports.check_free(pty_path)
        assert "Thonny" in str(e.value)
    finally:
        holder.close()
