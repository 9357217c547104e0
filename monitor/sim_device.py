"""The simulated device: a node's messages, with its state changed by the firmware's own rules
(node/lib/rules.py: what a button edge or a command does), so that behaviour is described once. The
fleet simulator (`monitor.fleet`) and the tests' fake node (tests/monitor/mon_fakenode.py) are both built
on it; neither shares code with `monitor.model`, which the checker is tested with: the checker is tested
against the firmware's rules, not against itself.

It makes message bodies (`(kind, body)` pairs, the envelope included) and leaves the wire to its user: when
they arrive, with which faults, as which records. `ts` (the node's uptime in ms) comes from `_ts()`.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

RULES = Path(__file__).resolve().parents[1] / "node" / "lib" / "rules.py"


def _firmware_rules() -> ModuleType:
    """node/lib/rules.py, loaded from its file. (node/lib is not put on `sys.path`: the firmware's other
    modules, `log`, `link`, `config` and the rest, would shadow modules of the same names here.)"""
    spec = importlib.util.spec_from_file_location("picostate_firmware_rules", RULES)
    if spec is None or spec.loader is None or not RULES.is_file():
        raise ImportError(f"the firmware's rules are not at {RULES} (the simulated device needs the node's "
                          "source tree beside the monitor's)")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rules = _firmware_rules()

Message = tuple[str, dict[str, Any]]
"""A message as the device publishes it: its kind (the last part of its topic) and its JSON body."""


class SimDevice:
    """One simulated node: its envelope (`boot`, `sess`, `seq`), its state (the firmware's `rules.initial()`,
    changed only by the firmware's rules) and its outbox's drop counter."""

    def __init__(self, name: str, boot: str, *, fw: str = "sim", led: str | None = None,
                 mode: str | None = None) -> None:
        self.name, self.boot, self.fw = name, boot, fw
        self.sess, self.seq = 1, 0
        self.state: dict[str, Any] = rules.initial()
        if led is not None:  # a node met in mid-life (the tests' fake node may start anywhere)
            self.state["led"] = led
        if mode is not None:
            self.state["mode"] = mode
        self.dropped = 0

    # The state, by name (the fake node's tests also set `ver` and the buttons by hand: a node that lies).
    @property
    def ver(self) -> int:
        return self.state["ver"]

    @ver.setter
    def ver(self, value: int) -> None:
        self.state["ver"] = value

    @property
    def led(self) -> str:
        return self.state["led"]

    @property
    def mode(self) -> str:
        return self.state["mode"]

    @property
    def buttons(self) -> dict[str, bool]:
        return self.state["buttons"]

    @property
    def presses(self) -> dict[str, int]:
        return self.state["presses"]

    def _ts(self) -> int:
        """The node's uptime in ms, for the next message."""
        raise NotImplementedError

    def temp_c(self) -> float | None:
        """The temperature a snapshot reads."""
        return 24.3

    def message(self, kind: str, body: dict[str, Any]) -> Message:
        """`body` with the envelope of the next `seq`."""
        self.seq += 1
        return kind, {"boot": self.boot, "sess": self.sess, "seq": self.seq, "ts": self._ts(), **body}

    def status(self) -> Message:
        return self.message("status", {"online": True, "id": self.name, "fw": self.fw})

    def will(self) -> Message:
        """The Last Will, as the broker publishes it: no `seq`, no `ts` (it uses no `seq` number)."""
        return "status", {"online": False, "boot": self.boot, "sess": self.sess}

    def state_body(self) -> dict[str, Any]:
        """A snapshot's fields (`lit`: the LED is taken as lit exactly when its policy is `on`)."""
        st = self.state
        return {"ver": st["ver"], "led": st["led"], "lit": 1 if st["led"] == "on" else 0, "mode": st["mode"],
                "buttons": dict(st["buttons"]), "presses": dict(st["presses"]), "temp_c": self.temp_c(),
                "dropped": self.dropped, "cmd_dropped": 0}

    def snapshot(self) -> Message:
        return self.message("state", self.state_body())

    def _events(self, events: list[dict[str, Any]], drop_first: bool = False) -> list[Message]:
        """The events the rules made, published in order (`ver` first in each); with `drop_first`, the first
        is dropped from the outbox instead (its `ver` used, counted in `dropped`, no `seq` given)."""
        out = []
        for i, event in enumerate(events):
            if i == 0 and drop_first:
                self.dropped += 1
                continue
            out.append(self.message("event", {"ver": event["ver"], **event}))
        return out

    def button(self, which: str, pressed: bool, drop: bool = False) -> list[Message]:
        """A debounced edge of button `which` (nothing when it is at that level already): the button's event
        (dropped from the outbox with `drop`), then B's mode toggle when B is pressed."""
        return self._events(rules.button_edge(self.state, which, pressed), drop)

    def apply(self, cid: str, fields: dict[str, Any]) -> list[Message]:
        """A valid command's changes: led first, then mode, each only if it differs."""
        return self._events(rules.apply_command(self.state, cid, fields))

    def ack(self, cid: str | None, error: str | None = None) -> Message:
        """The node's answer: ok with the state's `ver`, or the `error` that rejected the command."""
        if error is None:
            return self.message("ack", {"id": cid, "ok": True, "ver": self.state["ver"]})
        return self.message("ack", {"id": cid, "ok": False, "error": error})
