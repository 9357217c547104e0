"""Finding the board's serial port: the one given, or the one MicroPython board attached, and
making sure no other program holds it.

A MicroPython board on USB shows Raspberry Pi's vendor id with MicroPython's product id
(2e8a:0005) or the generic MicroPython one (f055:9802); the virtual board is a pty that no port
listing shows, so it is always given with --port DIR/serial.
"""

import os

from deploy.errors import DeployError

MICROPYTHON_USB_IDS = {(0x2E8A, 0x0005), (0xF055, 0x9802)}
HELD_HINT = "close the program that has it open (Thonny, an mpremote repl, a serial terminal)"


def describe(port):
    ident = f"{port.vid:04x}:{port.pid:04x}" if port.vid is not None and port.pid is not None else "no USB id"
    words = " ".join(w for w in (port.manufacturer, port.product) if w)
    return f"{port.device} ({ident}{', ' + words if words else ''})"


def is_micropython(port):
    text = f"{port.manufacturer or ''} {port.product or ''}"
    return (port.vid, port.pid) in MICROPYTHON_USB_IDS or "MicroPython" in text


def choose(ports):
    """The device path of the one MicroPython board among `ports` (pyserial ListPortInfo-like
    records). Raises DeployError('find', ...) naming what was seen."""
    boards = [p for p in ports if is_micropython(p)]
    if len(boards) == 1:
        return boards[0].device
    if boards:
        raise DeployError("find", "several MicroPython boards are attached: "
                          + ", ".join(describe(p) for p in boards) + "; choose one with --port")
    seen = ", ".join(describe(p) for p in ports) or "none"
    raise DeployError("find", f"no MicroPython board found (ports seen: {seen}); plug it in with "
                              "a data cable, or give --port (a virtual board: --port DIR/serial)")


def list_ports():
    import serial.tools.list_ports

    return sorted(serial.tools.list_ports.comports(), key=lambda p: p.device)


def find(port=None):
    """The port to use: `port` if given (checked to exist), else the one board attached."""
    if port is None:
        return choose(list_ports())
    if "://" in port or os.path.exists(port):
        return port
    listed = list_ports()
    if any(p.device == port for p in listed):   # COM3 on Windows is no path
        return port
    seen = ", ".join(describe(p) for p in listed) or "none"
    raise DeployError("find", f"no such port {port} (ports seen: {seen})")


def check_free(port):
    """Open `port` exclusively and close it again: another program holding it (with a lock, as
    mpremote and pyserial take) is named before anything is sent. Raises DeployError."""
    if "://" in port:
        return
    import serial

    try:
        s = serial.Serial(port, 115200, exclusive=True, timeout=0)
    except serial.SerialException as e:
        text = str(e)
        if "exclusively lock" in text or "Resource temporarily unavailable" in text:
            raise DeployError("find", f"{port} is in use by another program: {HELD_HINT}") from None
        raise DeployError("find", f"cannot open {port}: {text}") from None
    s.close()
