"""The virtual board's text formats, as pure functions: pin names, the press schedule
(`SIM_PRESS`, `--press`), the host's `pins.in` file, the `pins.log` change lines and the
temperature sensor's conversion.

Both sides import this one file: the MicroPython stand-ins (it sits on MICROPYPATH) and the
host tools (as `sim.board._simformat`), so the two can never disagree about a format. It must
therefore stay in the subset both languages share: no f-strings, no typing, no dataclasses. The
board's compiled copy leaves out the part marked "host only" at the end, which only the host uses.
"""

GPIO_COUNT = 30  # GP0..GP29 on the RP2350A of a Pico 2 W
LED = "LED"  # the on-board LED, wired to the Wi-Fi chip, not to a GPIO
ADC_CHANNELS = 5  # ADC0..ADC3 on GP26..GP29, ADC4 the temperature sensor
TEMP_CHANNEL = 4
DEFAULT_TEMP_C = 25.0
DEFAULT_HOLD_S = 0.2
PRESS_USAGE = "--press takes PIN@START[:HOLD], e.g. 14@1.0:0.3"
U16_MAX = 65535


def gpio_name(n):
    """'GPn' for a GPIO number, or ValueError('invalid pin') like the rp2 port."""
    if isinstance(n, int) and not isinstance(n, bool) and 0 <= n < GPIO_COUNT:
        return "GP%d" % n
    raise ValueError("invalid pin")


def board_pin_name(pin_id):
    """The pin name for a `machine.Pin` id, accepting what the rp2 port accepts on a Pico W:
    an int 0..29, 'GPn', 'GPIOn', 'LED' or 'WL_GPIO0' (the LED's pin on the Wi-Fi chip)."""
    if isinstance(pin_id, str):
        if pin_id in ("LED", "WL_GPIO0", "EXT_GPIO0"):
            return LED
        for prefix in ("GPIO", "GP"):
            if pin_id.startswith(prefix):
                digits = pin_id[len(prefix):]
                if digits.isdigit() and str(int(digits)) == digits and int(digits) < GPIO_COUNT:
                    return "GP" + digits
                break
        raise ValueError('unknown named pin "%s"' % pin_id)
    return gpio_name(pin_id)


def host_pin_name(text):
    """A GPIO or LED name as a person types it on the host: 14, '14', 'GP14', 'gp14', 'led'."""
    if isinstance(text, int) and not isinstance(text, bool):
        return gpio_name(text)
    s = str(text).strip().upper()
    if s.isdigit():
        return gpio_name(int(s))
    return board_pin_name(s)


def input_name(text):
    """The canonical name of an input the host can drive in pins.in: 'GPn', 'ADCn', 'TEMP',
    'WLAN' or 'BOOTSEL' (the BOOTSEL button, rp2.bootsel_button()). Raises ValueError naming what
    is accepted."""
    s = str(text).strip().upper()
    if s in ("TEMP", "WLAN", "BOOTSEL"):
        return s
    if s.startswith("ADC"):
        digits = s[3:]
        if digits.isdigit() and int(digits) < ADC_CHANNELS:
            return "ADC%d" % int(digits)
        raise ValueError("no such ADC channel: %s (ADC0 to ADC4)" % text)
    try:
        name = host_pin_name(s)
    except ValueError:
        raise ValueError("unknown input %s: give GP0..GP29, ADC0..ADC4, TEMP, WLAN or BOOTSEL" % text)
    if name == LED:
        raise ValueError("LED is an output; it cannot be driven from outside")
    return name


def parse_input_value(name, text):
    """The value of one pins.in line for the canonical input `name`, as a number.
    GPn, WLAN and BOOTSEL (1: held down) take 0 or 1, ADCn a raw reading 0..65535, TEMP degrees Celsius."""
    s = str(text).strip()
    if name == "TEMP":
        try:
            return float(s)
        except ValueError:
            raise ValueError("TEMP takes degrees Celsius (e.g. 30.5), not %s" % s)
    if name.startswith("ADC"):
        if s.isdigit() and int(s) <= U16_MAX:
            return int(s)
        raise ValueError("%s takes a raw reading 0..65535, not %s" % (name, s))
    if s in ("0", "1"):
        return int(s)
    raise ValueError("%s takes 0 or 1, not %s" % (name, s))


def parse_pins_in(text):
    """The inputs the host drives, from the text of pins.in: {name: value}.

    The board reads this on every input read, so it must never raise: malformed lines are
    skipped. A later line for the same input wins; TEMP and ADC4 are the same input and are
    both returned as 'ADC4' with a raw value."""
    driven = {}
    for line in text.split("\n"):
        parts = line.split()
        if len(parts) != 2 or parts[0].startswith("#"):
            continue
        try:
            name = input_name(parts[0])
            value = parse_input_value(name, parts[1])
        except ValueError:
            continue
        if name == "TEMP":
            name = "ADC%d" % TEMP_CHANNEL
            value = temp_to_raw(value)
        driven[name] = value
    return driven


def temp_to_raw(celsius):
    """The ADC4 reading (u16) the RP2 temperature sensor gives at `celsius`: the sensor's
    0.706 V at 27 C falling 1.721 mV per degree, on a 3.3 V reference."""
    volts = 0.706 - (celsius - 27) * 0.001721
    raw = int(round(volts / 3.3 * U16_MAX))
    return min(max(raw, 0), U16_MAX)


def _non_negative(text):
    value = float(text)  # ValueError on junk, caught by the caller
    if value < 0 or value != value or value == float("inf"):
        raise ValueError(text)
    return value


def parse_press(spec):
    """A press schedule: comma-separated PIN@START[:HOLD] items, e.g. '14@1.0:0.3,GP13@2.5'.
    Returns a list of (pin name, start s, end s): the pin reads LOW (pressed, active-low)
    from START to START+HOLD seconds after the program starts. Raises ValueError(PRESS_USAGE)."""
    schedule = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        if item.count("@") != 1:
            raise ValueError(PRESS_USAGE)
        pin, when = item.split("@")
        times = when.split(":")
        if len(times) > 2:
            raise ValueError(PRESS_USAGE)
        try:
            name = host_pin_name(pin)
            start = _non_negative(times[0])
            hold = _non_negative(times[1]) if len(times) == 2 else DEFAULT_HOLD_S
        except ValueError:
            raise ValueError(PRESS_USAGE)
        if name == LED or hold == 0:
            raise ValueError(PRESS_USAGE)
        schedule.append((name, start, start + hold))
    return schedule


def pressed(schedule, name, t):
    """Whether the schedule holds pin `name` LOW at `t` seconds after the start."""
    for pin, start, end in schedule:
        if pin == name and start <= t < end:
            return True
    return False


def format_change(t, name, level):
    """One pins.log line: seconds since the start (3 decimals), pin name, level: 0 or 1, or for a
    pin driven by PWM the text `pwm 0.42` (the duty, the fraction of the time it is high)."""
    return "%.3f %s %s" % (t, name, level)


# --- host only: the board's compiled copy of this file ends above this line (sim/deps.py) -------------
# What only the host does with these formats: writing pins.in and SIM_PRESS, reading pins.log.
# Each name the board's modules hold is one more entry in the interpreter's table of names, which
# grows by doubling; these four are never used on the board.


def format_pins_in(lines):
    """The text of pins.in for an ordered list of (name, value_text) pairs."""
    return "".join("%s %s\n" % (name, value) for name, value in lines)


def raw_to_temp(raw):
    """The inverse of temp_to_raw, the formula firmware uses."""
    return 27 - (raw * 3.3 / U16_MAX - 0.706) / 0.001721


def format_press(schedule):
    """The SIM_PRESS text for a schedule from parse_press (round-trips through it)."""
    return ",".join("%s@%r:%r" % (name, start, end - start) for name, start, end in schedule)


def parse_change(line):
    """(t, name, level) from a pins.log line, or None for a header, blank or partial line."""
    parts = line.split()
    if len(parts) != 3 or line.startswith("#"):
        return None
    try:
        return (float(parts[0]), parts[1], int(parts[2]))
    except ValueError:
        return None
