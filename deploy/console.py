"""The board's console (its USB serial port) read on a thread, line by line, through pyserial
(which mpremote brings). A board that resets drops off USB and comes back: the port is opened
again until close(). The port is opened exclusively, as mpremote opens it.
"""

import threading
import time


class Console:
    def __init__(self, port, on_line, baudrate=115200):
        self.port = port
        self.on_line = on_line
        self.baudrate = baudrate
        self.opened = threading.Event()   # set once the port has been opened
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="deploy-console", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def close(self):
        self._stop.set()
        self._thread.join(timeout=2)

    def _open(self):
        import serial

        try:
            return serial.serial_for_url(self.port, self.baudrate, timeout=0.1, exclusive=True)
        except (serial.SerialException, OSError, ValueError):
            return None

    def _run(self):
        import serial

        link = None
        pending = b""
        try:
            while not self._stop.is_set():
                if link is None:
                    link = self._open()
                    if link is None:
                        time.sleep(0.1)
                        continue
                    self.opened.set()
                try:
                    data = link.read(512)
                except (serial.SerialException, OSError):
                    link.close()   # the board reset: its USB port went away
                    link = None
                    continue
                pending += data
                *lines, pending = pending.split(b"\n")
                for raw in lines:
                    self.on_line(raw.decode("utf-8", "replace").rstrip("\r"))
        finally:
            if link is not None:
                link.close()
