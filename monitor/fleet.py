"""The fleet simulator: N devices speaking the protocol (docs/protocol.md), with faults of each kind
injected on request, for tests and benchmarks. `python -m monitor fleet N` publishes to a broker, or
writes a recording directly (`--out`), and can write a manifest of what it injected (`--manifest`).

Each simulated device changes its state by the firmware's own rules (`monitor.sim_device`, on
node/lib/rules.py), not by `monitor.model` (the checker is tested against the firmware's rules, not against
itself). It acts like a node and like the laptops commanding it: button edges, commands (published on
`cmd`, then the node's events and ack), snapshots. Faults, each at its own rate per action
(`--fault lost=0.01`), and the finding each must produce:

| fault | what happens on the wire | finding |
|---|---|---|
| `lost` | a message gets its `seq` but is never published | `lost` |
| `duplicate` | a message is published twice | `duplicate` |
| `reordered` | a message is published after the next one | `reordered` |
| `reboot` | the device restarts: new `boot`, `seq` and `ver` from the start | `reboot` |
| `reconnect` | a new session: the old session's Last Will, then `status` | `reconnect` |
| `dropped_on_device` | an event is dropped from the outbox (counted in `dropped`) | `dropped_on_device` |
| `inconsistent` | a snapshot shows the wrong `led` | `inconsistent` |
| `unacked` | a command is published and never answered | `unacked` |
| `malformed` | a payload that is not JSON | `malformed` |
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from monitor.sim_device import Message, SimDevice

FAULTS = ("lost", "duplicate", "reordered", "reboot", "reconnect", "dropped_on_device", "inconsistent",
          "unacked", "malformed")


@dataclass
class Publication:
    """One message the fleet puts on the wire."""

    topic: str
    payload: bytes
    retain: bool = False


def _dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


class FleetDevice(SimDevice):
    """One simulated node of the fleet (its state changed by the firmware's rules: `monitor.sim_device`),
    and whoever commands it: its uptime runs on the monotonic clock, a snapshot reads a random temperature,
    and may lie about the LED (the `inconsistent` fault)."""

    def __init__(self, name: str, rng: random.Random) -> None:
        self.rng = rng
        super().__init__(name, f"{rng.getrandbits(32):08x}")
        self.started = time.monotonic()
        self.commands = 0
        self.wrong_led = False
        self.lied = False

    def _ts(self) -> int:
        return int((time.monotonic() - self.started) * 1000)

    def temp_c(self) -> float:
        return round(20 + self.rng.random() * 10, 1)

    def snapshot(self) -> Message:
        self.lied = self.wrong_led
        kind, body = super().snapshot()
        if self.wrong_led:
            body["led"] = next(v for v in ("on", "off", "auto") if v != self.led)
            self.wrong_led = False
        return kind, body

    def toggle(self, which: str, drop: bool = False) -> list[Message]:
        """Button `which` changes level (its event dropped from the outbox with `drop`)."""
        return self.button(which, not self.buttons[which], drop)

    def command(self, led: str | None, mode: str | None) -> tuple[str, list[Message]]:
        """A command published by a laptop, and the node's events and ack."""
        self.commands += 1
        cid = f"f-{self.name}-{self.commands}"
        fields = {name: value for name, value in (("led", led), ("mode", mode)) if value is not None}
        return cid, [*self.apply(cid, fields), self.ack(cid)]

    def reboot(self) -> None:
        """The node restarts: a new `boot`, `seq` and `ver` from the start, the firmware's initial state."""
        self.__init__(self.name, self.rng)  # type: ignore[misc]


class Fleet:
    """N devices and the faults to inject; `publications()` yields what goes on the wire, in order."""

    def __init__(self, n: int, *, seed: int = 1, faults: dict[str, float] | None = None, prefix: str = "fleet-",
                 command_rate: float = 0.1, snapshot_rate: float = 0.15) -> None:
        self.rng = random.Random(seed)
        self.devices = [FleetDevice(f"{prefix}{i:05d}", self.rng) for i in range(n)]
        self.faults = {k: v for k, v in (faults or {}).items() if v > 0}
        unknown = set(self.faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))} (known: {', '.join(FAULTS)})")
        self.command_rate = command_rate
        self.snapshot_rate = snapshot_rate
        self.injected: list[dict[str, Any]] = []

    def _fault(self, kind: str) -> bool:
        rate = self.faults.get(kind)
        return rate is not None and self.rng.random() < rate

    def _note(self, dev: FleetDevice, kind: str, **facts: Any) -> None:
        self.injected.append({"device": dev.name, "kind": kind, "boot": dev.boot, **facts})

    def _wire(self, dev: FleetDevice, messages: list[Message]) -> list[Publication]:
        out: list[Publication] = []
        held: Publication | None = None
        for kind, body in messages:
            topic = f"pico/{dev.name}/{kind}"
            pub = Publication(topic, _dumps(body), retain=kind in ("status", "state"))
            if kind != "status" and self._fault("lost"):
                self._note(dev, "lost", seq=body["seq"])
                if kind == "ack":  # its command then goes unanswered, as far as anyone can see
                    self._note(dev, "unacked", command=body["id"], because="lost")
                continue
            if kind != "status" and self._fault("duplicate"):
                self._note(dev, "duplicate", seq=body["seq"])
                out += [pub, pub]
            elif held is None and kind != "status" and self._fault("reordered"):
                held = pub
                self._note(dev, "reordered", seq=body["seq"])
                continue
            else:
                out.append(pub)
            if held is not None:
                out.append(held)
                held = None
        if held is not None:  # nothing came after it: it goes out in order after all
            self.injected.pop()
            out.append(held)
        return out

    def start(self) -> Iterator[Publication]:
        """Every device comes online: status and first snapshot."""
        for dev in self.devices:
            yield from self._wire(dev, [dev.status(), dev.snapshot()])

    def step(self, dev: FleetDevice) -> list[Publication]:
        """One action of one device, with whatever faults strike."""
        rng = self.rng
        if self._fault("reboot"):
            old = dev.boot
            dev.reboot()
            self._note(dev, "reboot", after=old)
            return self._wire(dev, [dev.status(), dev.snapshot()])
        if self._fault("reconnect"):
            kind, body = dev.will()
            will = Publication(f"pico/{dev.name}/{kind}", _dumps(body), retain=True)
            dev.sess += 1
            self._note(dev, "reconnect", sess=dev.sess)
            return [will, *self._wire(dev, [dev.status()])]
        if self._fault("malformed"):
            self._note(dev, "malformed")
            return [Publication(f"pico/{dev.name}/event", b"\x00not json " + secrets.token_bytes(4))]
        if self._fault("unacked"):
            dev.commands += 1
            cid = f"f-{dev.name}-{dev.commands}"
            self._note(dev, "unacked", command=cid)
            return [Publication(f"pico/{dev.name}/cmd", _dumps({"id": cid, "get": True}))]
        roll = rng.random()
        if roll < self.snapshot_rate:
            # Two wrong snapshots in a row cannot be told apart from a wrong model, so a lie always
            # follows a truthful snapshot.
            if not dev.lied and self._fault("inconsistent"):
                dev.wrong_led = True
                self._note(dev, "inconsistent", seq=dev.seq + 1)
            return self._wire(dev, [dev.snapshot()])
        if roll < self.snapshot_rate + self.command_rate:
            led = rng.choice((None, "on", "off", "auto"))
            mode = rng.choice((None, "slow", "fast")) if led is not None else rng.choice(("slow", "fast"))
            cid, messages = dev.command(led, mode)
            body: dict[str, Any] = {"id": cid}
            if led is not None:
                body["led"] = led
            if mode is not None:
                body["mode"] = mode
            return [Publication(f"pico/{dev.name}/cmd", _dumps(body)), *self._wire(dev, messages)]
        drop = self._fault("dropped_on_device")
        if drop:
            self._note(dev, "dropped_on_device", ver=dev.ver + 1)
        messages = dev.toggle(rng.choice("ab"), drop)
        if drop:  # the node's next snapshot carries the count
            messages.append(dev.snapshot())
        return self._wire(dev, messages)

    def publications(self, count: int) -> Iterator[Publication]:
        """The start, then actions of randomly chosen devices until at least `count` messages went out."""
        sent = 0
        for pub in self.start():
            sent += 1
            yield pub
        while sent < count:
            for pub in self.step(self.rng.choice(self.devices)):
                sent += 1
                yield pub
        for dev in self.devices:  # a closing snapshot: what was injected last shows
            for pub in self._wire(dev, [dev.snapshot()]):
                yield pub

    def manifest(self) -> dict[str, Any]:
        """What was injected, per device and kind (the findings a checker must report)."""
        per: dict[str, dict[str, int]] = {}
        for item in self.injected:
            per.setdefault(item["device"], {}).setdefault(item["kind"], 0)
            per[item["device"]][item["kind"]] += 1
        return {"devices": len(self.devices), "faults": self.faults, "injected": self.injected, "per_device": per}


def pace(items: Iterator[Publication], rate: float, send: Callable[[Publication], None],
         deadline: float | None = None) -> int:
    """Hand `items` to `send`, at most `rate` per second (0: as fast as possible), until `deadline`."""
    started = time.monotonic()
    n = 0
    for pub in items:
        if deadline is not None and time.monotonic() >= deadline:
            break
        if rate > 0:
            wait = started + n / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        send(pub)
        n += 1
    return n
