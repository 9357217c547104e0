"""The host's side of a virtual board's pins: driving its inputs through `pins.in` and reading
its outputs from `pins.log`, both in the board directory (formats in sim/board/_simformat.py).

pins.in is rewritten whole and atomically (a temporary file renamed over it) under a lock
file, so the board never reads half a file and two host writers never lose each other's lines.
Besides the pins it holds the sensors' readings (`DHT16 21.5,40`, `AHT20 21.5,40`: sim/board/_simdevices.py),
and pins.log holds, besides the pins' levels, other outputs' records such as a NeoPixel strip's writes
(`1.302 GP16 neopixel 0:ff0000`), read with records() and neopixel().
"""

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path

from sim.board import _simdevices as devices
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
        self._log_records = []
        self._log_head = ""

    # --- inputs -----------------------------------------------------------------------------

    def driven(self):
        """{name: value text} of what pins.in drives now, in file order."""
        return dict(self._read_in())

    def drive(self, name, value):
        """Drive input `name` (14, 'GP14', 'ADC4', 'TEMP', 'WLAN') to `value` (0/1 for a GPIO
        and WLAN, a raw 0..65535 for ADCn, degrees for TEMP), or set a sensor's reading ('DHT16' or
        'AHT20' to 'TEMP,HUM', e.g. '21.5,40'). Raises ValueError if invalid."""
        key = input_name(name)
        text = str(value).strip()
        if isinstance(value, bool):
            text = str(int(value))
        if is_sensor(key):
            text = text.replace(" ", "")
            devices.parse_reading(key, text)
        else:
            fmt.parse_input_value(key, text)  # validate before writing
        # TEMP and ADC4 are one input: setting one replaces the other.
        same = {"TEMP", "ADC4"} if key in ("TEMP", "ADC4") else {key}
        with self._locked():
            lines = [(n, v) for n, v in self._read_in() if n not in same]
            lines.append((key, text))
            self._write_in(lines)

    def release(self, name):
        """Stop driving input `name`: a GPIO falls back to the press schedule or its pull, a sensor
        is gone (a DHT then times out, the AHT20 leaves the I2C bus)."""
        key = input_name(name)
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

    def set_dht(self, pin, temperature, humidity):
        """Make the DHT11/DHT22 on `pin` (16, 'GP16') read `temperature` °C and `humidity` %RH."""
        self.drive("DHT" + fmt.host_pin_name(pin)[2:], f"{float(temperature)!r},{float(humidity)!r}")

    def set_aht20(self, temperature, humidity):
        """Put the AHT20 on the I2C bus (address 0x38), reading `temperature` °C and `humidity` %RH."""
        self.drive(devices.AHT20, f"{float(temperature)!r},{float(humidity)!r}")

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

    def records(self, name=None, kind=None):
        """Every record of an output other than a pin's level so far, oldest first: [(t, name, kind,
        text)], e.g. (1.302, 'GP16', 'neopixel', '0:ff0000 1-7:000000'); only `name`'s and `kind`'s
        if given."""
        self._read_log()
        pin = fmt.host_pin_name(name) if name is not None else None
        return [r for r in self._log_records if (pin is None or r[1] == pin) and (kind is None or r[2] == kind)]

    def neopixel(self, name):
        """The colours the NeoPixel strip on pin `name` showed at its last write(): [(r, g, b), ...],
        or None if it has not written yet."""
        found = self.records(name, "neopixel")
        return devices.parse_pixels(found[-1][3]) if found else None

    def neopixel_writes(self, name):
        """[(t, colours)] of every write() of the strip on pin `name`, oldest first."""
        return [(t, devices.parse_pixels(text)) for t, _, _, text in self.records(name, "neopixel")]

    def pwm(self, name):
        """[(t, duty)] of every PWM record of pin `name` so far (`1.302 GP15 pwm 0.42`: the fraction
        of the time it is high, how bright an LED on it shines), oldest first."""
        return [(t, float(text)) for t, _, _, text in self.records(name, "pwm")]

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
                    self._log_records = []
                f.seek(self._log_pos)
                chunk = f.read()
        except FileNotFoundError:
            self._log_head, self._log_pos, self._log_changes = "", 0, []
            self._log_records = []
            return
        complete = chunk[: chunk.rfind("\n") + 1]  # a line still being written waits
        self._log_pos += len(complete)
        for line in complete.splitlines():
            change = fmt.parse_change(line)
            if change:
                self._log_changes.append(change)
                continue
            record = _parse_record(line)
            if record:
                self._log_records.append(record)


def input_name(text):
    """The canonical pins.in name of a pin input (fmt.input_name) or of a sensor ('DHT16', 'AHT20').
    Raises ValueError naming what is accepted."""
    sensor = devices.sensor_name(text)
    if sensor:
        return sensor
    try:
        return fmt.input_name(text)
    except ValueError as e:
        if "unknown input" not in str(e):
            raise
        raise ValueError(f"{e}; a sensor's reading: DHT0..DHT29 (the GPIO of a DHT's data line) "
                         "or AHT20") from None


def is_sensor(key):
    """Whether the canonical input name `key` is a sensor's reading (set, not driven)."""
    return key == devices.AHT20 or key.startswith(devices.DHT_PREFIX)


def _parse_record(line):
    """(t, name, kind, text) from a pins.log line `T NAME KIND TEXT...`, or None."""
    parts = line.split(None, 3)
    if len(parts) != 4 or line.startswith("#"):
        return None
    try:
        return (float(parts[0]), parts[1], parts[2], parts[3])
    except ValueError:
        return None
