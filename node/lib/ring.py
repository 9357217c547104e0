"""A fixed-size FIFO allocated once, for the node's queues. Pure; the overflow policy is the caller's."""


class Ring:
    def __init__(self, size):
        self._buf = [None] * size
        self._head = 0
        self._n = 0

    def __len__(self):
        return self._n

    def full(self):
        return self._n == len(self._buf)

    def push(self, item):
        if self.full():
            raise IndexError("ring full")
        self._buf[(self._head + self._n) % len(self._buf)] = item
        self._n += 1

    def __getitem__(self, i):
        """The i-th item from the front (0 is the oldest)."""
        if not 0 <= i < self._n:
            raise IndexError("ring index out of range")
        return self._buf[(self._head + i) % len(self._buf)]

    def peek(self):
        return self._buf[self._head] if self._n else None

    def pop(self):
        if not self._n:
            return None
        item = self._buf[self._head]
        self._buf[self._head] = None
        self._head = (self._head + 1) % len(self._buf)
        self._n -= 1
        return item
