"""The virtual board's sensors and NeoPixels as text, shared by board and host: the readings the host
sets in `pins.in` for a DHT sensor (`DHT16 21.5,40`) or the shipped I2C sensor (`AHT20 21.5,40`), and
the `pins.log` record of a NeoPixel write (`1.302 GP16 neopixel 0-7:ff0000 8:00ff00`).

Like _simformat, both languages import this file (MicroPython as `_simdevices`, the host as
`sim.board._simdevices`), so it stays in their common subset. Only dht, neopixel and _simi2c import it
on the board: a program that uses none of them (the node) never loads it. pins.in lines with these names
are skipped by _simformat.parse_pins_in, which drives the pins.
"""

DHT_PREFIX = "DHT"  # DHTn: the DHT sensor on GPn
AHT20 = "AHT20"  # the shipped I2C sensor (see _simi2c)
# What each sensor can measure (°C, %RH): a real one reads its limit beyond it.
RANGES = {"DHT11": ((0.0, 50.0), (20.0, 90.0)), "DHT22": ((-40.0, 80.0), (0.0, 100.0)),
          AHT20: ((-40.0, 85.0), (0.0, 100.0))}
TRACE_RUNS = 8  # a trace line shows this many runs of colour, then "..."


def sensor_name(text):
    """The canonical pins.in name of a sensor, 'DHTn' (n a GPIO 0..29) or 'AHT20'; None if `text` names
    none (so the caller can try the pins)."""
    s = str(text).strip().upper()
    if s == AHT20:
        return s
    if s.startswith(DHT_PREFIX):
        digits = s[3:]
        if s.startswith("DHTGP"):
            digits = s[5:]
        if digits.isdigit() and int(digits) < 30:
            return DHT_PREFIX + str(int(digits))
        raise ValueError("no such DHT pin: %s (DHT0 to DHT29, the GPIO the sensor's data line is on)" % text)
    return None


def parse_reading(name, text):
    """(temperature °C, humidity %RH) from a pins.in value such as '21.5,40'. Raises ValueError."""
    parts = str(text).split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        temp, hum = float(parts[0]), float(parts[1])
        if temp != temp or hum != hum or not (-100 < temp < 200) or not (0 <= hum <= 100):
            raise ValueError
    except ValueError:
        raise ValueError("%s takes TEMPERATURE,HUMIDITY (degrees Celsius, percent 0..100), e.g. 21.5,40, "
                         "not %s" % (name, text))
    return temp, hum


def reading(path, name):
    """(temperature, humidity) that pins.in at `path` (a host path, read with the board's opener) sets for
    sensor `name`, or None: no such line, or no file. Read afresh at each measurement (seconds apart)."""
    import _simboard

    try:
        f = _simboard._host_open(path, "r")
    except OSError:
        return None
    try:
        text = f.read()
    finally:
        f.close()
    found = None
    for line in text.split("\n"):
        parts = line.split()
        if len(parts) == 2 and parts[0] == name:
            try:
                found = parse_reading(name, parts[1])  # a later line wins, as for pins
            except ValueError:
                pass
    return found


def clamp(value, limits):
    return min(max(value, limits[0]), limits[1])


def format_pixels(colours, limit=0):
    """'0-7:ff0000 8:00ff00' from a list of colour tuples: runs of one colour, each as first-last index
    (or one index) and hex bytes in the tuple's order (r, g, b[, w]). With `limit`, at most that many runs,
    then '... N pixels'."""
    runs = []
    start = 0
    n = len(colours)
    for i in range(1, n + 1):
        if i == n or colours[i] != colours[start]:
            hexes = "".join("%02x" % c for c in colours[start])
            runs.append(("%d:%s" % (start, hexes)) if i - 1 == start else ("%d-%d:%s" % (start, i - 1, hexes)))
            start = i
    if limit and len(runs) > limit:
        return " ".join(runs[:limit]) + " ... %d pixels" % n
    return " ".join(runs)


# --- host only: the board's compiled copy of this file ends above this line (sim/deps.py) -------------


def parse_pixels(text):
    """The list of colour tuples from format_pixels' text (without a limit). Raises ValueError."""
    colours = []
    for run in text.split():
        where, _, hexes = run.partition(":")
        first, _, last = where.partition("-")
        first, last = int(first), int(last or first)
        if first != len(colours) or last < first or len(hexes) not in (6, 8):
            raise ValueError("not a NeoPixel record: %r" % text)
        colour = tuple(int(hexes[k:k + 2], 16) for k in range(0, len(hexes), 2))
        colours += [colour] * (last - first + 1)
    return colours
