"""A fake Pico node for the monitor's tests: the `Record`s a recorder would have received from a
well-behaved node, on a clock of its own (a message every 10 ms, its uptime 7 ms further each time).

What its messages say is the simulated device's (`monitor.sim_device`): the state changed by the firmware's
own rules (node/lib/rules.py), the same device the fleet simulator runs. It shares no code with
`monitor.model` on purpose: the checker is tested against the firmware's rules, not against itself. Tests
make it lie by hand (`ver`, `buttons`, `_emit()` with a body of their own).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from monitor.record import Record
from monitor.sim_device import SimDevice

T0 = 1_700_000_000.0


class _Device(SimDevice):
    """The simulated device, with the fake node's uptime: 7 ms more at each message."""

    uptime = 0

    def _ts(self) -> int:
        self.uptime += 7
        return self.uptime


class FakeNode:
    def __init__(self, device: str = "pico-test", boot: str = "9f1c2a7b", t0: float = T0,
                 led: str = "auto", mode: str = "slow") -> None:
        self.sim = _Device(device, boot, fw="0.1.0", led=led, mode=mode)
        self.device, self.boot = device, boot
        self.t = t0
        self.out: list[Record] = []
        self.retained: dict[str, Record] = {}

    # The device's state, which tests may also set by hand (a node that lies, or drops an event).
    @property
    def ver(self) -> int:
        return self.sim.ver

    @ver.setter
    def ver(self, value: int) -> None:
        self.sim.ver = value

    @property
    def buttons(self) -> dict[str, bool]:
        return self.sim.buttons

    @property
    def presses(self) -> dict[str, int]:
        return self.sim.presses

    @property
    def led(self) -> str:
        return self.sim.led

    @property
    def mode(self) -> str:
        return self.sim.mode

    @property
    def sess(self) -> int:
        return self.sim.sess

    def _record(self, kind: str, body: dict[str, Any]) -> Record:
        """A message of the device, as it arrives 10 ms after the one before."""
        self.t += 0.01
        record = Record(self.t, f"pico/{self.device}/{kind}", 1, False, json.dumps(body).encode())
        if kind in ("status", "state"):
            self.retained[kind] = record
        self.out.append(record)
        return record

    def _emit(self, kind: str, body: dict) -> Record:
        """`body` published with the next envelope (tests use it for messages the device would not make)."""
        return self._record(*self.sim.message(kind, body))

    def state_body(self) -> dict:
        return self.sim.state_body()

    def status(self) -> Record:
        return self._record(*self.sim.status())

    def snapshot(self) -> Record:
        return self._record(*self.sim.snapshot())

    def button(self, button: str, pressed: bool) -> list[Record]:
        """A debounced edge (nothing when the button is already at that level)."""
        return [self._record(*m) for m in self.sim.button(button, pressed)]

    def send(self, payload: bytes | dict) -> Record:
        """A command as a laptop publishes it on `pico/<id>/cmd` (the recorder sees it too)."""
        self.t += 0.01
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        record = Record(self.t, f"pico/{self.device}/cmd", 1, False, raw)
        self.out.append(record)
        return record

    def command(self, cid: str, led: str | None = None, mode: str | None = None, get: bool = False,
                wire: bool = True) -> list[Record]:
        """A valid command: published (unless `wire` is false), then the node's events (led before mode),
        a snapshot when asked, then the ack."""
        if wire:
            fields = {"led": led, "mode": mode, "get": True if get else None}
            self.send({"id": cid, **{k: v for k, v in fields.items() if v is not None}})
        changes = {k: v for k, v in (("led", led), ("mode", mode)) if v is not None}
        out = [self._record(*m) for m in self.sim.apply(cid, changes)]
        if get:
            out.append(self.snapshot())
        out.append(self._record(*self.sim.ack(cid)))
        return out

    def reject(self, cid: str | None, error: str, raw: bytes | None = None) -> Record:
        """A rejected command: `raw` published first when given, then the node's ack."""
        if raw is not None:
            self.send(raw)
        return self._record(*self.sim.ack(cid, error))

    def reconnect(self) -> Record:
        """A new MQTT session: the status of session + 1."""
        self.sim.sess += 1
        return self.status()

    def resend(self, record: Record) -> Record:
        """The node resends `record` after reconnecting: same payload (original seq and sess), arriving now."""
        self.t += 0.01
        again = replace(record, t=self.t)
        self.out.append(again)
        return again

    def will(self) -> Record:
        """The Last Will, as the broker publishes it (no seq, no ts; does not use a seq number)."""
        self.t += 0.01
        kind, body = self.sim.will()
        record = Record(self.t, f"pico/{self.device}/{kind}", 1, False, json.dumps(body).encode())
        self.out.append(record)
        return record

    def replays(self, t: float) -> list[Record]:
        """The retained status and state as a subscriber gets them on subscribe (retain flag set)."""
        return [replace(r, t=t, retain=True) for r in self.retained.values()]
