"""The LED rule: what level the LED shows for a policy, mode and button A, and until when.

Pure. Blinking runs on a fixed grid of the uptime (on for the first half of each period), so the
level at any moment is a function of the time alone and never drifts with scheduling delays.
The LED task calls `led_on` and `led_wait` on every blink: two ints, where `led_level`'s tuple would
be one allocation per blink.
"""


def led_on(policy, mode, held, now_ms, slow_ms, fast_ms):
    """The level: 1 lit, 0 dark."""
    if policy == "on":
        return 1
    if policy == "off":
        return 0
    if held:
        return 1
    period = fast_ms if mode == "fast" else slow_ms
    return 1 if now_ms % period < period // 2 else 0


def led_wait(policy, mode, held, now_ms, slow_ms, fast_ms):
    """Milliseconds until the level changes by itself, or None: not until the state changes."""
    if policy != "auto" or held:
        return None
    period = fast_ms if mode == "fast" else slow_ms
    half = period // 2
    phase = now_ms % period
    return half - phase if phase < half else period - phase


def led_level(policy, mode, held, now_ms, slow_ms, fast_ms):
    """Returns (level, ms until it may change by itself, or None for 'not until the state changes')."""
    return (led_on(policy, mode, held, now_ms, slow_ms, fast_ms),
            led_wait(policy, mode, held, now_ms, slow_ms, fast_ms))
