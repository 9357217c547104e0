"""The LED's stalls, measured from a board's pin log (`python -m sim stalls --board DIR`). Pure.

A task that holds up the others shows on the pins: the node's LED (GP15) changes at every blink edge
(every 500 ms in slow mode, 100 ms in fast), and the heartbeat LED (`LED`, on the Wi-Fi chip) lights
for 100 ms every second. A gap between two changes longer than expected is a stall of that much: GP15
alone stalls when the LED task waits (for the lock, say), both stall when nothing runs at all (a
blocking call, a busy loop).

Only gaps between changes count: a steady LED (button A held, `--led on` or `off`) has no blink to be
late, so measure while it blinks. The time after the last change is not counted (the run may be over).
"""

GP15_EVERY_MS = 500        # the slow blink's half period (node/config.py SLOW_PERIOD_MS / 2)
FAST_EVERY_MS = 100        # the fast blink's (FAST_PERIOD_MS / 2): `--every 100` in fast mode
HEARTBEAT_EVERY_MS = 900   # the heartbeat LED's longest honest gap (lit 100 ms, dark 900 ms)
TOLERANCE_MS = 50          # the scheduler's ordinary lateness (a poll, a publish, a collection)


class Stall:
    """The longest gap between two changes of one pin and how much longer it was than expected."""

    def __init__(self, pin, changes, longest_s, at_s, every_ms):
        self.pin = pin
        self.changes = changes          # how many changes were measured
        self.longest_s = longest_s      # the longest gap (0 with fewer than two changes)
        self.at_s = at_s                # board time the longest gap began
        self.every_ms = every_ms
        self.over_ms = max(0.0, longest_s * 1000 - every_ms)

    @property
    def stalled(self):
        return self.over_ms > TOLERANCE_MS


def measure(changes, pin, every_ms, since=0.0):
    """The Stall of `pin` among `changes` ([(t, pin, level)], sim.pins.Board.changes()) from board
    time `since` on, counting the gap from the last change before it."""
    times = [t for t, name, _ in changes if name == pin]
    before = [t for t in times if t < since]
    times = before[-1:] + [t for t in times if t >= since]
    longest, at = 0.0, None
    for a, b in zip(times, times[1:]):
        if b - a > longest:
            longest, at = b - a, a
    return Stall(pin, len(times), longest, at, every_ms)


def report(changes, every_ms=None, since=0.0):
    """What `python -m sim stalls` prints: one line per LED."""
    lines = []
    for pin, what, every in (("GP15", "the LED", every_ms or GP15_EVERY_MS),
                             ("LED", "the heartbeat LED", HEARTBEAT_EVERY_MS)):
        s = measure(changes, pin, every, since)
        if s.changes < 2:
            lines.append("%s (%s): %d change(s): nothing to measure" % (pin, what, s.changes))
            continue
        verdict = ("a stall of %d ms" % round(s.over_ms)) if s.stalled else "no stall"
        lines.append("%s (%s): %d changes; longest gap %d ms, from t=%.3f s; expected at most %d ms: %s"
                     % (pin, what, s.changes, round(s.longest_s * 1000), s.at_s, every, verdict))
    return "\n".join(lines)
