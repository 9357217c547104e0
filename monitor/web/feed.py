"""The session's side of `monitor web` (its own thread): the live session (`monitor.live.session`, the same
receiver and checker as `record` and `watch`) is polled here, and what it received and found becomes the
page's cards, log lines and timeline points, handed to the `Store` once per turn (`REFRESH_S`), in one batch.

Only the devices touched since the last turn get their card made again (a message, a finding), and every
device when the broker connection changes (their `online` may become `unknown`).
"""

from __future__ import annotations

import time
from typing import Any

from monitor import findings as F
from monitor.live.session import Session, tally_text
from monitor.record import Record
from monitor.web import cards
from monitor.web.store import Batch, Store

REFRESH_S = 0.2
"""How often the store gets what changed (the page's updates are paced by the server too)."""
POLL_S = 0.05
"""The longest one look at the receiver waits."""


class Feed:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.steps = cards.Steps()
        self._batch = Batch()
        self._touched: set[str] = set()
        self._broker: tuple[Any, Any] = (None, None)
        self.status = "connecting"
        self.session: Session | None = None

    # the session's callbacks (on its thread)

    def on_record(self, record: Record) -> None:
        where = cards.split(record.topic)
        if where is None:
            return
        device = where[0]
        self._touched.add(device)
        entry = cards.record_entry(record)
        if entry is not None:
            self._batch.log.append(entry)
        if entry is not None and entry["kind"] == "event button":
            self._press(device, record)
        step = self.steps.step(device, record)
        if step is not None:
            self._batch.points.append((device, {"t": record.t, "lane": "seq", "step": step[0], "seq": step[1],
                                                "kind": where[1]}))

    def _press(self, device: str, record: Record) -> None:
        """A press of a button (an event with `pressed` true): a mark in the timeline's presses lane."""
        body = cards.body(record)
        if body is not None and body.get("pressed") is True and body.get("button") in ("a", "b"):
            self._batch.points.append((device, {"t": record.t, "lane": "press", "button": body["button"],
                                                "presses": body.get("presses")}))

    def on_finding(self, finding: F.Finding) -> None:
        entry = cards.finding_entry(finding)
        self._batch.log.append(entry)
        if finding.device is not None:
            self._touched.add(finding.device)
            self._batch.points.append((finding.device, {"t": finding.t or time.time(), "lane": "finding",
                                                        "kind": finding.kind, "error": finding.error,
                                                        "text": entry["text"], "seqs": entry["seqs"]}))

    def on_subscribed(self) -> None:
        self.status = "subscribed"

    # the turn

    def turn(self) -> None:
        """Hand what changed to the store."""
        session = self.session
        assert session is not None
        broker = (session.broker_gone, session.unknown_before)
        devices = session.checker.devices
        if broker != self._broker:
            self._broker = broker
            self._touched.update(devices)
        batch = self._batch
        for name in self._touched:
            dev = devices.get(name)
            if dev is not None:
                batch.cards[name] = cards.card(dev, *broker)
        self._touched = set()
        batch.status = {
            "broker": session.gone_text() or self.status,
            "recording": str(session.path), "messages": session.count, "findings": tally_text(session.tally()),
            "devices": len(devices), "failure": session.failure,
        }
        self._batch = Batch()
        self.store.apply(batch)

    def run(self, session: Session) -> None:
        """Poll `session` until it ends (stopped, `--for`, a failure), handing a batch over every turn."""
        self.session = session
        due = 0.0
        while session.poll(POLL_S):
            now = time.monotonic()
            if now >= due:
                due = now + REFRESH_S
                self.turn()
        self.turn()
