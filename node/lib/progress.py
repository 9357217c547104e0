"""Progress beats of the tasks the watchdog watches. Pure.

Each watched task must beat at least once every `rounds` looks of the watchdog (one round by default;
a task whose longest honest wait is several rounds, like the network link, is given that many).
"""


class Progress:
    def __init__(self, names, rounds=None):
        self._names = names
        self._rounds = rounds or {}
        self._silent = {}           # looks since the task last beat
        for n in names:
            self._silent[n] = 0
        self._beat = {}
        for n in names:
            self._beat[n] = False

    def beat(self, name):
        self._beat[name] = True

    def all_beat(self):
        """True if every watched task beat within its allowance; then starts a new round."""
        ok = True
        for n in self._names:
            self._silent[n] = 0 if self._beat[n] else self._silent[n] + 1
            self._beat[n] = False
            if self._silent[n] >= self._rounds.get(n, 1):
                ok = False
        return ok

    def missing(self):
        """The tasks out of their allowance at the last look."""
        return [n for n in self._names if self._silent[n] >= self._rounds.get(n, 1)]
