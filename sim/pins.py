"""The host's side of a virtual board's pins: driving its inputs through `pins.in` and reading
its outputs from `pins.log`, both in the board directory (formats in sim/board/_simformat.py).

pins.in is rewritten whole and atomically (a temporary file renamed over it) under a lock
file, so the board never reads half a file and two host writers never lose each other's lines.
"""

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path

from sim.board import _simformat as fmt

PINS_IN = "pins.in"
PINS_LOG = "pins.log"
T0_HEADER = "# t0_ns "  # the first line of pins.log, written by the runner


class Board:
    """One board directory, seen from the host."""

    def __init__(self, dir):
        self.dir = Path(dir)
        self._log_pos = 0
        self._log_changes = []
        self._log_head = ""

    # --- inputs -----------------------------------------------------------------------------

    def driven(self):
        """{name: value text} of what pins.in drives now, in file order."""
        return dict(self._read_in())

    def drive(self, name, value):
        """Drive input `name` (14, 'GP14', 'ADC4', 'TEMP', 'WLAN') to `value` (0/1 for a GPIO
        and WLAN, a raw 0..65535 for ADCn, degrees for TEMP). Raises ValueError if invalid."""
        key = fmt.input_name(name)
        text = str(value).strip()
        if isinstance(value, bool):
            text = str(int(value))
        fmt.parse_input_value(key, text)  # validate before writing
        # TEMP and ADC4 are one input: setting one replaces the other.
        same = {"TEMP", "ADC4"} if key in ("TEMP", "ADC4") else {key}
        with self._locked():
            lines = [(n, v) for n, v in self._read_in() if n not in same]
            lines.append((key, text))
            self._write_in(lines)

    def release(self, name):
        """Stop driving input `name`: a GPIO falls back to the press schedule or its pull."""
        key = fmt.input_name(name)
        same = {"TEMP", "ADC4"} if key in ("TEMP", "ADC4") else {key}
        with self._locked():
            self._write_in([(n, v) for n, v in self._read_in() if n not in same])

    def press(self, name, hold=None):
        """Press an active-low button: drive its pin LOW. With `hold` seconds, release it
        again after that long (this call then takes that long)."""
        self.drive(name, 0)
        if hold is not None:
            time.sleep(hold)
            self.release(name)

    def set_temperature(self, celsius):
        """Make the temperature sensor (ADC4) read `celsius`."""
        self.drive("TEMP", float(celsius))

    def wlan(self, up):
        """Take the Wi-Fi link down (False) or let it up again (True)."""
        self.drive("WLAN", 1 if up else 0)

    def _read_in(self):
        try:
            text = (self.dir / PINS_IN).read_text()
        except FileNotFoundError:
            return []
        lines = []
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 2 and not parts[0].startswith("#"):
                lines.append((parts[0], parts[1]))
        return lines

    def _write_in(self, lines):
        path = self.dir / PINS_IN
        partial = path.with_name(f".{PINS_IN}.{os.getpid()}.tmp")
        partial.write_text(fmt.format_pins_in(lines))
        partial.replace(path)

    @contextmanager
    def _locked(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / f".{PINS_IN}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    # --- outputs ----------------------------------------------------------------------------

    def changes(self, name=None):
        """Every output change of this run so far, oldest first: [(t, name, level)], t in
        seconds since the start. With `name` (e.g. 'LED', 15, 'GP15') only that pin's."""
        self._read_log()
        if name is None:
            return list(self._log_changes)
        pin = fmt.host_pin_name(name)
        return [c for c in self._log_changes if c[1] == pin]

    def outputs(self):
        """{pin name: level} of every pin that has driven an output, as it is now."""
        return {name: level for _, name, level in self.changes()}

    def output(self, name):
        """The level output `name` drives now, or None if it never drove one."""
        return self.outputs().get(fmt.host_pin_name(name))

    def wait_for(self, name, level, timeout=5.0, since=None):
        """Wait until output `name` drives `level` (with `since`, a board time in seconds:
        until it changes to `level` at or after that time). Returns the time of that change
        (None if it was already so and `since` is None). Raises TimeoutError."""
        pin = fmt.host_pin_name(name)
        deadline = time.monotonic() + timeout
        while True:
            history = self.changes(pin)
            if since is None:
                if history and history[-1][2] == level:
                    return history[-1][0]
            else:
                for t, _, lvl in history:
                    if t >= since and lvl == level:
                        return t
            if time.monotonic() >= deadline:
                now = history[-1][2] if history else "never driven"
                recent = ", ".join(f"{t:.3f}:{lvl}" for t, _, lvl in history[-5:]) or "none"
                after = f" at or after t={since:.3f} s" if since is not None else ""
                raise TimeoutError(f"{pin} did not become {level}{after} within {timeout} s "
                                   f"(it is {now}; last changes: {recent})")
            time.sleep(0.01)

    def t0_ns(self):
        """The run's start (host time.time_ns()), from the pins.log header; None before."""
        self._read_log()
        if self._log_head.startswith(T0_HEADER):
            return int(self._log_head[len(T0_HEADER):])
        return None

    def now(self):
        """Seconds since the run's start, on the board's clock (to compare with changes())."""
        t0 = self.t0_ns()
        if t0 is None:
            raise RuntimeError(f"no run has started on the board at {self.dir}")
        return (time.time_ns() - t0) / 1e9

    def _read_log(self):
        """Read what the board appended since the last call; start over on a new run."""
        path = self.dir / PINS_LOG
        try:
            with open(path) as f:
                head = f.readline()
                head = head if head.startswith(T0_HEADER) else ""
                if head != self._log_head or os.fstat(f.fileno()).st_size < self._log_pos:
                    self._log_head, self._log_pos, self._log_changes = head, len(head), []
                f.seek(self._log_pos)
                chunk = f.read()
        except FileNotFoundError:
            self._log_head, self._log_pos, self._log_changes = "", 0, []
            return
        complete = chunk[: chunk.rfind("\n") + 1]  # a line still being written waits
        self._log_pos += len(complete)
        for line in complete.splitlines():
            change = fmt.parse_change(line)
            if change:
                self._log_changes.append(change)
