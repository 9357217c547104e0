"""What `monitor web` knows, between its two threads: the session's thread (which follows and checks the
recording, `monitor.live.session`) writes the cards, the log and the timeline points here in batches
(`Batch`, `Store.apply()`); the server's thread reads, for each page open, only what changed since that
page's last update (`Store.delta()`), for the devices it shows (`Page`: its filter and its page). One
lock, held for a copy and nothing else.

So the page never falls behind, however many devices: it gets at most `PAGE_SIZE` cards, and each update
carries only the cards whose content changed, the newest `LOG_PER_UPDATE` log lines and the selected
device's new timeline points; the server sends updates at a bounded rate (`monitor.web.server`).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

PAGE_SIZE = 24
"""Cards on one page of the dashboard."""
LOG_KEPT = 2000
"""Log lines kept (the newest): what a page opened later is shown first."""
LOG_FIRST = 200
"""Log lines a page gets when it opens."""
LOG_PER_UPDATE = 100
"""Log lines one update carries at most (the newest; the others are counted as skipped)."""
TIMELINE_S = 300.0
"""How far back the timeline goes (seconds)."""
POINTS_KEPT = 500
"""Timeline points kept per device at most (the newest)."""
POINTS_TOTAL = 100_000
"""Timeline points kept over all devices at most (the newest): a large fleet publishing flat out would
otherwise hold POINTS_KEPT for each of its devices."""


@dataclass
class Batch:
    """What the session's thread collected since its last `apply()`."""

    cards: dict[str, dict[str, Any]] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)
    points: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    status: dict[str, Any] | None = None

    def __bool__(self) -> bool:
        return bool(self.cards or self.log or self.points or self.status is not None)


@dataclass
class Page:
    """One open page: what it shows and what it was sent already."""

    filter: str = ""
    findings_only: bool = False
    page: int = 0
    selected: str | None = None
    seen: dict[str, int] = field(default_factory=dict)
    """device -> the card version the page has"""
    order: list[str] | None = None
    log_id: int = -1
    point_id: int = -1
    points_of: str | None = None
    status_version: int = -1
    selected_sent: str | None = None


class Store:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cards: dict[str, dict[str, Any]] = {}
        self._versions: dict[str, int] = {}
        self._version = 0
        self._names: list[str] = []                # sorted; rebuilt when a device appears
        self._log: deque[tuple[int, dict[str, Any]]] = deque(maxlen=LOG_KEPT)
        self._log_id = 0
        self._points: dict[str, deque[tuple[int, dict[str, Any]]]] = {}
        self._point_id = 0
        self._point_order: deque[tuple[int, str]] = deque()  # (id, device) of every point kept, oldest first
        self._status: dict[str, Any] = {}
        self._status_version = 0

    # --- the session's thread ----------------------------------------------------------------------------

    def apply(self, batch: Batch) -> None:
        with self._lock:
            added = False
            for name, card in batch.cards.items():
                if self._cards.get(name) == card:
                    continue
                if name not in self._cards:
                    added = True
                self._cards[name] = card
                self._version += 1
                self._versions[name] = self._version
            if added:
                self._names = sorted(self._cards)
            for entry in batch.log:
                self._log.append((self._log_id, entry))
                self._log_id += 1
            horizon = time.time() - TIMELINE_S
            for name, point in batch.points:
                kept = self._points.get(name)
                if kept is None:
                    kept = self._points[name] = deque(maxlen=POINTS_KEPT)
                kept.append((self._point_id, point))
                self._point_order.append((self._point_id, name))
                self._point_id += 1
                while kept and (kept[0][1].get("t") or 0) < horizon:
                    kept.popleft()
            self._trim_points()
            if batch.status is not None and batch.status != self._status:
                self._status = batch.status
                self._status_version += 1

    def _trim_points(self) -> None:
        """At most POINTS_TOTAL points over all devices: the oldest go. Every point kept has its entry in
        `_point_order`, in id order, so an entry popped there is either its device's oldest point (dropped
        now) or one already gone (over POINTS_KEPT, or past the horizon)."""
        while len(self._point_order) > POINTS_TOTAL:
            point_id, name = self._point_order.popleft()
            kept = self._points.get(name)
            if kept and kept[0][0] == point_id:
                kept.popleft()

    # --- the server's thread ------------------------------------------------------------------------------

    def known(self, device: str) -> bool:
        with self._lock:
            return device in self._cards

    def _matching(self, page: Page) -> list[str]:
        wanted = page.filter.lower()
        names = self._names
        if wanted:
            names = [n for n in names if wanted in n.lower()]
        if page.findings_only:
            names = [n for n in names if self._cards[n]["findings"]]
        # Devices with error findings first: on a large fleet they are what a person looks for.
        return sorted(names, key=lambda n: self._cards[n]["errors"] == 0)

    def delta(self, page: Page) -> dict[str, Any] | None:
        """What `page` lacks (None: nothing), and `page` updated as if it had been sent."""
        with self._lock:
            out: dict[str, Any] = {}
            matching = self._matching(page)
            pages = max(1, -(-len(matching) // PAGE_SIZE))
            page.page = min(max(0, page.page), pages - 1)
            shown = matching[page.page * PAGE_SIZE:(page.page + 1) * PAGE_SIZE]
            if shown != page.order:
                page.order = shown
                out["order"] = shown
                page.seen = {n: v for n, v in page.seen.items() if n in shown}
            changed = [self._cards[n] for n in shown if page.seen.get(n) != self._versions[n]]
            for card in changed:
                page.seen[card["device"]] = self._versions[card["device"]]
            if changed:
                out["cards"] = changed
            if "order" in out or changed:
                out["counts"] = {"total": len(self._cards), "matching": len(matching), "page": page.page,
                                 "pages": pages}
            if page.selected is None or page.selected not in self._cards:
                page.selected = next((n for n in matching if self._cards[n]["errors"]), None) or \
                    (matching[0] if matching else None)
            if page.selected != page.selected_sent:
                page.selected_sent = page.selected
                out["selected"] = page.selected
            self._log_lines(page, out)
            self._timeline(page, out)
            if page.status_version != self._status_version:
                page.status_version = self._status_version
                out["status"] = self._status
        if not out:
            return None
        out["now"] = time.time()
        return out

    def _log_lines(self, page: Page, out: dict[str, Any]) -> None:
        if not self._log or self._log[-1][0] <= page.log_id:
            return
        first = page.log_id < 0
        new = [(i, e) for i, e in self._log if i > page.log_id] if not first else list(self._log)
        limit = LOG_FIRST if first else LOG_PER_UPDATE
        if len(new) > limit:
            out["skipped"] = len(new) - limit
            new = new[-limit:]
        out["log"] = [e for _, e in new]
        page.log_id = self._log[-1][0]

    def _timeline(self, page: Page, out: dict[str, Any]) -> None:
        name = page.selected
        if name is None:
            return
        kept = self._points.get(name, ())
        if page.points_of != name:
            page.points_of = name
            page.point_id = kept[-1][0] if kept else -1
            out["timeline"] = {"device": name, "reset": True, "points": [p for _, p in kept],
                               "span_s": TIMELINE_S}
            return
        if kept and kept[-1][0] > page.point_id:
            new = [p for i, p in kept if i > page.point_id]
            page.point_id = kept[-1][0]
            out["timeline"] = {"device": name, "reset": False, "points": new, "span_s": TIMELINE_S}
