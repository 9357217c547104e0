"""Reconnect pacing: exponential backoff, capped, with jitter. Pure; the random source is passed in.

Waits grow min_ms, 2*min_ms, 4*min_ms, ... up to max_ms; each wait is drawn from the upper half of
its step ("equal jitter"), so a fleet that lost its broker together does not come back in lockstep,
and no wait is ever shorter than half its step.
"""


class Backoff:
    def __init__(self, min_ms, max_ms, rand):
        self.min_ms = min_ms
        self.max_ms = max_ms
        self._rand = rand           # () -> float in [0, 1)
        self._step = 0

    def next(self):
        base = self.min_ms << self._step
        if base >= self.max_ms:
            base = self.max_ms
        else:
            self._step += 1
        half = base // 2
        return half + int(self._rand() * (base - half))

    def reset(self):
        self._step = 0
