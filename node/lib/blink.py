"""The LED rule: what level the LED shows for a policy, mode and button A, and until when.

Pure. Blinking runs on a fixed grid of the uptime (on for the first half of each period), so the
level at any moment is a function of the time alone and never drifts with scheduling delays.
"""


def led_level(policy, mode, held, now_ms, slow_ms, fast_ms):
    """Returns (level, ms until it may change by itself, or None for 'not until the state changes')."""
    if policy == "on":
        return 1, None
    if policy == "off":
        return 0, None
    if held:
        return 1, None
    period = fast_ms if mode == "fast" else slow_ms
    half = period // 2
    phase = now_ms % period
    if phase < half:
        return 1, half - phase
    return 0, period - phase
