"""The fleet simulator: N devices speaking the protocol (docs/protocol.md), with faults of each kind
injected on request, for tests and benchmarks. `python -m monitor fleet N` publishes to a broker, or
writes a recording directly (`--out`), and can write a manifest of what it injected (`--manifest`).

Each simulated device is written from the protocol, not from `monitor.model` (the checker is tested
against it, not against itself). It acts like a node and like the laptops commanding it: button
edges, commands (published on `cmd`, then the node's events and ack), snapshots. Faults, each at its
own rate per action (`--fault lost=0.01`), and the finding each must produce:

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
from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class SimDevice:
    """One simulated node (and whoever commands it)."""

    name: str
    rng: random.Random
    boot: str = ""
    sess: int = 1
    seq: int = 0
    ver: int = 0
    led: str = "auto"
    mode: str = "slow"
    buttons: dict[str, bool] = field(default_factory=lambda: {"a": False, "b": False})
    presses: dict[str, int] = field(default_factory=lambda: {"a": 0, "b": 0})
    dropped: int = 0
    started: float = field(default_factory=time.monotonic)
    commands: int = 0
    wrong_led: bool = False
    lied: bool = False

    def __post_init__(self) -> None:
        self.boot = f"{self.rng.getrandbits(32):08x}"

    def _ts(self) -> int:
        return int((time.monotonic() - self.started) * 1000)

    def message(self, kind: str, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        self.seq += 1
        return kind, {"boot": self.boot, "sess": self.sess, "seq": self.seq, "ts": self._ts(), **body}

    def status(self) -> tuple[str, dict[str, Any]]:
        return self.message("status", {"online": True, "id": self.name, "fw": "sim"})

    def snapshot(self) -> tuple[str, dict[str, Any]]:
        led = self.led
        self.lied = self.wrong_led
        if self.wrong_led:
            led = next(v for v in ("on", "off", "auto") if v != self.led)
            self.wrong_led = False
        return self.message("state", {"ver": self.ver, "led": led, "lit": 1 if self.led == "on" else 0,
                                      "mode": self.mode, "buttons": dict(self.buttons),
                                      "presses": dict(self.presses), "temp_c": round(20 + self.rng.random() * 10, 1),
                                      "dropped": self.dropped, "cmd_dropped": 0})

    def event(self, body: dict[str, Any], drop: bool = False) -> tuple[str, dict[str, Any]] | None:
        self.ver += 1
        if drop:
            self.dropped += 1
            return None
        return self.message("event", {"ver": self.ver, **body})

    def button(self, which: str, drop: bool = False) -> list[tuple[str, dict[str, Any]]]:
        pressed = not self.buttons[which]
        self.buttons[which] = pressed
        if pressed:
            self.presses[which] += 1
        out = [self.event({"kind": "button", "button": which, "pressed": pressed,
                           "presses": self.presses[which]}, drop)]
        if which == "b" and pressed:
            self.mode = "fast" if self.mode == "slow" else "slow"
            out.append(self.event({"kind": "mode", "mode": self.mode, "by": "button"}))
        return [m for m in out if m is not None]

    def command(self, led: str | None, mode: str | None) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
        self.commands += 1
        cid = f"f-{self.name}-{self.commands}"
        out = []
        if led is not None and led != self.led:
            self.led = led
            out.append(self.event({"kind": "led", "led": led, "by": "cmd", "cmd": cid}))
        if mode is not None and mode != self.mode:
            self.mode = mode
            out.append(self.event({"kind": "mode", "mode": mode, "by": "cmd", "cmd": cid}))
        out.append(self.message("ack", {"id": cid, "ok": True, "ver": self.ver}))
        return cid, [m for m in out if m is not None]

    def reboot(self) -> None:
        fresh = SimDevice(self.name, self.rng)
        self.__dict__.update(fresh.__dict__)


class Fleet:
    """N devices and the faults to inject; `publications()` yields what goes on the wire, in order."""

    def __init__(self, n: int, *, seed: int = 1, faults: dict[str, float] | None = None, prefix: str = "fleet-",
                 command_rate: float = 0.1, snapshot_rate: float = 0.15) -> None:
        self.rng = random.Random(seed)
        self.devices = [SimDevice(f"{prefix}{i:05d}", self.rng) for i in range(n)]
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

    def _note(self, dev: SimDevice, kind: str, **facts: Any) -> None:
        self.injected.append({"device": dev.name, "kind": kind, "boot": dev.boot, **facts})

    def _wire(self, dev: SimDevice, messages: list[tuple[str, dict[str, Any]]]) -> list[Publication]:
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

    def step(self, dev: SimDevice) -> list[Publication]:
        """One action of one device, with whatever faults strike."""
        rng = self.rng
        if self._fault("reboot"):
            old = dev.boot
            dev.reboot()
            self._note(dev, "reboot", after=old)
            return self._wire(dev, [dev.status(), dev.snapshot()])
        if self._fault("reconnect"):
            will = Publication(f"pico/{dev.name}/status",
                               _dumps({"online": False, "boot": dev.boot, "sess": dev.sess}), retain=True)
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
        messages = dev.button(rng.choice("ab"), drop)
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
