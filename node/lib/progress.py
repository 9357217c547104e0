"""Progress beats of the tasks the watchdog watches. Pure."""


class Progress:
    def __init__(self, names):
        self._names = names
        self._beats = {}
        for n in names:
            self._beats[n] = False

    def beat(self, name):
        self._beats[name] = True

    def all_beat(self):
        """True if every watched task beat since the last call; then starts a new round."""
        ok = True
        for n in self._names:
            if not self._beats[n]:
                ok = False
            self._beats[n] = False
        return ok

    def missing(self):
        return [n for n in self._names if not self._beats[n]]
