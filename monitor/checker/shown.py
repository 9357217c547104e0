"""What the live view shows of each device (`watch`'s table reads it: monitor/live/view.py): online or
not, its firmware, and its newest snapshot, taken from the current boot's messages as they arrive (before
they are put in order: the view shows the newest word, the model checks them in order).

Only with `view` on is a snapshot's body kept (`Device.view`); without it (`record`, `check`) a body is let
go once the model has read it. (`Checker._accept()` does the same as `show()` in short, for the usual
message.)
"""

from __future__ import annotations

from monitor.checker.devices import Device, Track
from monitor.message import Message


class Shown:
    __slots__ = ("view",)

    def __init__(self, view: bool) -> None:
        self.view = view

    def show(self, dev: Device, track: Track, m: Message) -> None:
        """`m` arrived for `track` of `dev`: what the view shows of the device changes if it is the current boot."""
        if track is not dev.current:
            return
        body = m.body
        kind = m.kind
        if kind == "state":
            if self.view:
                dev.view = body
        elif kind == "status":
            dev.online = body.get("online") is True
            if isinstance(body.get("fw"), str):
                dev.fw = body["fw"]
            return
        if not m.retained:
            dev.online = True
