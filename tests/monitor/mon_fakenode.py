"""A fake Pico node for the monitor's tests: an independent, straightforward implementation of
docs/protocol.md that emits the `Record`s a recorder would have received from a well-behaved node.

It shares no code with `monitor.model` on purpose: the checker is tested against this, not against itself.
"""

from __future__ import annotations

import json
from dataclasses import replace

from monitor.record import Record

T0 = 1_700_000_000.0


class FakeNode:
    def __init__(self, device: str = "pico-test", boot: str = "9f1c2a7b", t0: float = T0,
                 led: str = "auto", mode: str = "slow") -> None:
        self.device, self.boot = device, boot
        self.sess, self.seq, self.ts, self.t = 1, 0, 0, t0
        self.ver, self.led, self.mode = 0, led, mode
        self.buttons = {"a": False, "b": False}
        self.presses = {"a": 0, "b": 0}
        self.out: list[Record] = []
        self.retained: dict[str, Record] = {}

    def _emit(self, kind: str, body: dict) -> Record:
        self.seq += 1
        self.ts += 7
        self.t += 0.01
        payload = {"boot": self.boot, "sess": self.sess, "seq": self.seq, "ts": self.ts, **body}
        record = Record(self.t, f"pico/{self.device}/{kind}", 1, False, json.dumps(payload).encode())
        if kind in ("status", "state"):
            self.retained[kind] = record
        self.out.append(record)
        return record

    def state_body(self) -> dict:
        return {"ver": self.ver, "led": self.led, "lit": 1 if self.led == "on" else 0, "mode": self.mode,
                "buttons": dict(self.buttons), "presses": dict(self.presses),
                "temp_c": 24.3, "dropped": 0, "cmd_dropped": 0}

    def status(self) -> Record:
        return self._emit("status", {"online": True, "id": self.device, "fw": "0.1.0"})

    def snapshot(self) -> Record:
        return self._emit("state", self.state_body())

    def _event(self, **fields) -> Record:
        self.ver += 1
        return self._emit("event", {"ver": self.ver, **fields})

    def button(self, button: str, pressed: bool) -> list[Record]:
        """A debounced edge (nothing when the button is already at that level)."""
        if self.buttons[button] == pressed:
            return []
        self.buttons[button] = pressed
        if pressed:
            self.presses[button] += 1
        out = [self._event(kind="button", button=button, pressed=pressed, presses=self.presses[button])]
        if button == "b" and pressed:
            self.mode = "fast" if self.mode == "slow" else "slow"
            out.append(self._event(kind="mode", mode=self.mode, by="button"))
        return out

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
        out = []
        if led is not None and led != self.led:
            self.led = led
            out.append(self._event(kind="led", led=led, by="cmd", cmd=cid))
        if mode is not None and mode != self.mode:
            self.mode = mode
            out.append(self._event(kind="mode", mode=mode, by="cmd", cmd=cid))
        if get:
            out.append(self.snapshot())
        out.append(self._emit("ack", {"id": cid, "ok": True, "ver": self.ver}))
        return out

    def reject(self, cid: str | None, error: str, raw: bytes | None = None) -> Record:
        """A rejected command: `raw` published first when given, then the node's ack."""
        if raw is not None:
            self.send(raw)
        return self._emit("ack", {"id": cid, "ok": False, "error": error})

    def reconnect(self) -> Record:
        """A new MQTT session: the status of session + 1."""
        self.sess += 1
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
        payload = {"online": False, "boot": self.boot, "sess": self.sess}
        record = Record(self.t, f"pico/{self.device}/status", 1, False, json.dumps(payload).encode())
        self.out.append(record)
        return record

    def replays(self, t: float) -> list[Record]:
        """The retained status and state as a subscriber gets them on subscribe (retain flag set)."""
        return [replace(r, t=t, retain=True) for r in self.retained.values()]
