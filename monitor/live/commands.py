"""What `watch`'s keys send (in the `record`/`watch` process): `l` cycles the selected device's LED policy
(on → off → auto → on), `m` toggles its blink mode, `g` asks for a snapshot; each key is one command,
sent and matched with its ack by `monitor.send.send()`, exactly as `python -m monitor send` does (its own
short-lived connection, on a worker thread, so the screen keeps being redrawn while the ack is awaited).
The commands and acks also reach the recording, like anyone else's, and are checked there.

The next LED policy and mode follow what the device said last (its newest snapshot in the table); with
nothing said yet, `l` starts at `on` and `m` at `fast`. One command per device at a time: a key pressed
while that device's ack is awaited is refused (said in its line), not queued. The words (`Result.text()`)
are pure: tests render them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from monitor import send
from monitor.errors import MonitorError
from monitor.message import json_object
from monitor.mqtt import Security

LED_CYCLE = ("on", "off", "auto")
MODES = ("slow", "fast")


def next_led(current: Any) -> str:
    """The LED policy after `current` in the cycle on → off → auto (unknown: `on`)."""
    if current in LED_CYCLE:
        return LED_CYCLE[(LED_CYCLE.index(current) + 1) % len(LED_CYCLE)]
    return LED_CYCLE[0]


def next_mode(current: Any) -> str:
    """The other blink mode (unknown: `fast`, the one a fresh node is not in)."""
    return "slow" if current == "fast" else "fast"


def fields_for(key: str, led: Any, mode: Any) -> dict[str, Any] | None:
    """The command a key sends, given the device's current `led` and `mode`; None for other keys."""
    if key == "l":
        return {"led": next_led(led)}
    if key == "m":
        return {"mode": next_mode(mode)}
    if key == "g":
        return {"get": True}
    return None


def what(fields: Mapping[str, Any]) -> str:
    """`led off`, `mode fast`, `get`: a command in a few words."""
    return " ".join("get" if k == "get" else f"{k} {v}" for k, v in fields.items())


@dataclass(frozen=True)
class Result:
    """A command's fate: waiting (`done` False), acked (`ok`, `error`, `rtt_ms`), or failed (`error`: no
    broker, no ack in time)."""

    command: str
    done: bool = False
    ok: bool = False
    error: str | None = None
    rtt_ms: float | None = None
    ver: int | None = None
    snapshot_ver: Any = None

    def text(self) -> str:
        if not self.done:
            return f"{self.command}: sent, waiting for the ack"
        rtt = f" in {self.rtt_ms:.1f} ms" if self.rtt_ms is not None else ""
        if self.ok:
            ver = f" (ver {self.ver})" if self.ver is not None else ""
            snap = f", snapshot ver {self.snapshot_ver}" if self.snapshot_ver is not None else ""
            return f"{self.command}: ok{ver}{snap}{rtt}"
        if self.rtt_ms is not None:
            return f"{self.command}: rejected: {self.error}{rtt}"
        return f"{self.command}: failed: {self.error}"


class Commands:
    """Sends the keys' commands to `broker`; `last[device]` is each device's newest command's `Result`."""

    def __init__(self, broker: str, *, security: Security | None = None, timeout: float = send.DEFAULT_TIMEOUT,
                 sender: Callable[..., send.Ack] = send.send) -> None:
        self.broker = broker
        self.security = security
        self.timeout = timeout
        self._send = sender
        self.last: dict[str, Result] = {}
        self._busy: set[str] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def key(self, device: str | None, key: str, led: Any = None, mode: Any = None) -> str | None:
        """Act on `key` for `device` (None: no device selected, nothing is sent); what to say, if anything."""
        fields = fields_for(key, led, mode)
        if fields is None:
            return None
        if device is None:
            return "no device selected (up/down or j/k)"
        with self._lock:
            if device in self._busy:
                return f"{device}: still waiting for the ack of {self.last[device].command}"
            self._busy.add(device)
            self.last[device] = Result(what(fields))
        thread = threading.Thread(target=self._run, args=(device, fields), name=f"cmd-{device}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return None

    def _run(self, device: str, fields: dict[str, Any]) -> None:
        result = outcome(self._send, self.broker, device, fields, timeout=self.timeout, security=self.security)
        with self._lock:
            self.last[device] = result
            self._busy.discard(device)

    def wait(self, timeout: float) -> None:
        """Let the commands still in flight end (each is bounded by its own timeouts), at most `timeout` s."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))


def outcome(sender: Callable[..., send.Ack], broker: str, device: str, fields: dict[str, Any], *,
            timeout: float, security: Security | None) -> Result:
    """Send one command as `python -m monitor send` does (blocking: run it on a worker thread) and say how it
    ended: acked, rejected, or failed (no broker, no ack in time, anything else), never raising."""
    command = what(fields)
    started = time.monotonic()
    try:
        ack = sender(broker, device, fields, timeout=timeout, security=security, snapshot="get" in fields)
        snap = ack.snapshot
        snapshot_ver = _ver(snap.payload) if snap is not None else None
        return Result(command, True, ack.ok, ack.error, ack.rtt_ms, ack.ver, snapshot_ver)
    except MonitorError as exc:
        return Result(command, True, False, str(exc) or type(exc).__name__)
    except Exception as exc:  # noqa: BLE001 (a worker thread: its failure is shown, never lost)
        return Result(command, True, False, f"{type(exc).__name__}: {exc} after "
                                            f"{time.monotonic() - started:.1f} s")


def _ver(payload: bytes) -> Any:
    body = json_object(payload)
    return None if body is None else body.get("ver")
