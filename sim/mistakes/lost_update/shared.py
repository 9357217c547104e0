"""MISTAKE lost-update: a button edge updates the shared state WITHOUT the lock, with an await between
reading the state and writing it back. Teaching mode only (`python -m sim node --mistake lost-update`),
never on a board.

The firmware's `Shared.button_edge` changes the state under `self.lock`, in one step with no await.
Here it works the change out on a copy read now, awaits (any await: a log write, a publish, saving the
count to flash), and then writes its copy back. Whatever another task changed in between is lost:
press A and B together and both edges start from the same `ver` and the same counts, so two events
carry the same `ver` and the last write wins (A's press is gone from `presses`).
"""

import asyncio

import _mistake

_real = _mistake.real("shared", __file__)
_mistake.take(globals(), _real)

SAVE_MS = 50    # the await between the read and the write: long enough to be met by the other button


def _copy(state):
    return {"ver": state["ver"], "led": state["led"], "mode": state["mode"],
            "buttons": dict(state["buttons"]), "presses": dict(state["presses"])}


async def _button_edge(self, button, pressed):
    mine = _copy(self.state)                                # read
    events = rules.button_edge(mine, button, pressed)       # modify (a private copy)
    if events:
        await asyncio.sleep_ms(SAVE_MS)                     # an await: every other task may run here
        self.state = mine                                   # write: what they did meanwhile is lost
        self._queue_events(events)


Shared.button_edge = _button_edge
_mistake.announce("lost-update", "Shared.button_edge without the lock, an await between read and write")
