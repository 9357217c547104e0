"""`python -m monitor send`: sending one command to a node (`pico/<id>/cmd`) and waiting for its ack (`pico/<id>/ack`).

The ack topic is subscribed (SUBACK received) before the command is published, so the ack cannot be
missed. The ack is matched by `id`: the one we generated (`m-<hex>`), the one in a raw command when the
node can read it, or else the first ack with `"id": null` after sending (docs/protocol.md: the node
answers `null` when it cannot read the id).

A command with `get` is answered by a snapshot too: the node queues it right after the ack, in the same
step (docs/protocol.md), so `send` also subscribes to `pico/<id>/state` first and takes the first live
snapshot of the ack's `boot` with a higher `seq` than the ack's and at least its `ver` (a newer snapshot
may have replaced it in the node's one snapshot slot: still an answer to the `get`). An ack without `boot`
and `seq` (not from this firmware) is answered by the first snapshot that arrives after it.

Also `ha_forget()`: removing a node from Home Assistant (an empty retained message on its discovery topic).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from monitor.errors import AckTimeout
from monitor.model import parse_command
from monitor.message import json_object
from monitor.mqtt import CONNECT_TIMEOUT, Link, Security
from monitor.record import Record

DEFAULT_TIMEOUT = 5.0
_STATES_KEPT = 64
"""Live snapshots kept while waiting for the one answering a `get`: the newest."""


@dataclass(frozen=True)
class Ack:
    """The node's answer: `ok`, the state `ver` after the command (ok) or the `error` (rejected)."""

    id: str | None
    ok: bool
    ver: int | None
    error: str | None
    rtt_ms: float
    payload: Mapping[str, Any]
    snapshot: Record | None = None
    """With `snapshot=True` and an ok ack: the snapshot that answered the `get` (None: none in time)."""


def new_id() -> str:
    """A fresh command id: `m-` and 12 hex digits."""
    return f"m-{secrets.token_hex(6)}"


def command_payload(fields: Mapping[str, Any], command_id: str | None = None) -> tuple[str, bytes]:
    """`(id, payload)` of a command with `fields` (an `id` in `fields` wins over `command_id`)."""
    body = {"id": command_id or new_id(), **fields}
    return body["id"], json.dumps(body, separators=(",", ":")).encode("utf-8")


def echoed_id(raw: bytes) -> str | None:
    """The `id` the node will put in its ack for the raw command `raw` (None when it cannot read one):
    the model's reading, which is the node's (tests/integration/test_command_agreement.py)."""
    return parse_command(raw).id


def _ack_of(body: Mapping[str, Any], rtt_ms: float) -> Ack:
    ok = body.get("ok") is True
    error = body.get("error") if isinstance(body.get("error"), str) else None
    if not ok and error is None:
        error = "the ack says neither ok nor an error" if body.get("ok") is not False else "no reason given"
    ver = body.get("ver") if isinstance(body.get("ver"), int) and not isinstance(body.get("ver"), bool) else None
    ack_id = body.get("id") if isinstance(body.get("id"), str) else None
    return Ack(id=ack_id, ok=ok, ver=ver, error=error, rtt_ms=rtt_ms, payload=dict(body))


def answers(ack: Mapping[str, Any], snapshot: Mapping[str, Any]) -> bool:
    """Whether `snapshot` (a live state body that arrived after the ack was sent) answers the ok `ack`:
    the same boot, a later `seq`, at least the ack's `ver`. Without `boot` and `seq` in the ack, any."""
    boot, seq, ver = ack.get("boot"), ack.get("seq"), ack.get("ver")
    if not isinstance(boot, str) or not _number(seq):
        return True
    if snapshot.get("boot") != boot or not _number(snapshot.get("seq")) or snapshot["seq"] <= seq:
        return False
    return not _number(ver) or (_number(snapshot.get("ver")) and snapshot["ver"] >= ver)


def _number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def send(broker: str, device: str, fields: Mapping[str, Any] | None = None, timeout: float = DEFAULT_TIMEOUT,
         *, raw: str | bytes | None = None, connect_timeout: float = CONNECT_TIMEOUT,
         security: Security | None = None, snapshot: bool = False) -> Ack:
    """Send a command to `device` and return its ack.

    Give `fields` (e.g. `{"led": "on"}`; an id is added unless present) or `raw` (sent verbatim).
    Raises `BrokerError` when the broker cannot be reached and `AckTimeout` when no matching ack comes
    within `timeout` seconds of publishing. With `snapshot` (for a command with `get`), an ok ack also
    waits, within the same `timeout`, for the snapshot that answers it (`Ack.snapshot`, None if none came).
    """
    if (fields is None) == (raw is None):
        raise ValueError("give either fields or raw")
    if raw is not None:
        payload = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
        want = echoed_id(payload)
    else:
        want, payload = command_payload(fields or {})
    ack_topic, cmd_topic, state_topic = f"pico/{device}/ack", f"pico/{device}/cmd", f"pico/{device}/state"
    cond = threading.Condition()
    box: dict[str, Any] = {}
    # Live snapshots since sending, numbered in arrival order (the newest few: a busy node makes many).
    states: deque[tuple[int, Record, Mapping[str, Any]]] = deque(maxlen=_STATES_KEPT)
    arrived_states = [0]

    def on_state(record: Record) -> None:
        if record.retain or "sent" not in box:
            return  # a retained one is history, not the answer
        body = json_object(record.payload)
        if body is not None:
            with cond:
                arrived_states[0] += 1
                states.append((arrived_states[0], record, body))
                cond.notify_all()

    def on_record(record: Record) -> None:
        if snapshot and record.topic == state_topic:
            on_state(record)
            return
        if record.topic != ack_topic or "sent" not in box or "ack" in box:
            return
        body = json_object(record.payload)  # None: not an ack we could match: keep waiting
        if body is not None and "id" in body and body["id"] == want:
            with cond:
                box.setdefault("ack", (body, time.perf_counter(), arrived_states[0]))
                cond.notify_all()

    def answered() -> bool:
        """The ack came, and (when a snapshot is wanted after an ok ack) the snapshot answering it."""
        if "ack" not in box:
            return False
        body, _, before = box["ack"]
        if not snapshot or body.get("ok") is not True:
            return True
        # Without the ack's boot and seq to go by, only a snapshot that came after the ack answers it.
        by_seq = isinstance(body.get("boot"), str) and _number(body.get("seq"))
        match = next((rec for n, rec, state in states if (by_seq or n > before) and answers(body, state)), None)
        if match is not None:
            box["snapshot"] = match
        return match is not None

    with Link(broker, "monitor-send", on_record=on_record, security=security) as link:
        link.connect(connect_timeout)
        link.subscribe(ack_topic, qos=1, timeout=connect_timeout)
        if snapshot:
            link.subscribe(state_topic, qos=1, timeout=connect_timeout)
        deadline = time.monotonic() + timeout
        box["sent"] = start = time.perf_counter()
        link.publish(cmd_topic, payload, qos=1, timeout=timeout)
        with cond:
            cond.wait_for(answered, max(0.0, deadline - time.monotonic()))
            got = box.get("ack")
            answer = box.get("snapshot")
    if got is None:
        which = f"id {want!r}" if want is not None else "id null"
        raise AckTimeout(f"no ack ({which}) from {device} within {timeout:g} s")
    body, arrived, _ = got
    return replace(_ack_of(body, (arrived - start) * 1000.0), snapshot=answer)


def ha_discovery_topic(device: str, prefix: str = "homeassistant") -> str:
    """The node's Home Assistant device-discovery topic: its id with any character Home Assistant's ids
    refuse (not `[A-Za-z0-9_-]`) as `_`, as node/lib/discovery.py writes it."""
    return f"{prefix}/device/{re.sub(r'[^A-Za-z0-9_-]', '_', device)}/config"


def ha_forget(broker: str, device: str, prefix: str = "homeassistant", timeout: float = DEFAULT_TIMEOUT, *,
              security: Security | None = None) -> str:
    """Remove `device` from Home Assistant: an empty retained message on its discovery topic (which both
    clears the broker's retained config and tells Home Assistant to delete the device). Returns the topic."""
    topic = ha_discovery_topic(device, prefix)
    with Link(broker, "monitor-send", security=security) as link:
        link.connect(timeout)
        link.publish(topic, b"", qos=1, retain=True, timeout=timeout)
    return topic
