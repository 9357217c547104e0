"""`python -m monitor watch`: the live table (`monitor.view`) redrawn in place with rich's `Live`, while
the subscriber records and checks on its own thread. Ctrl-C (or SIGTERM, or `--for`) ends it cleanly:
the last screen stays, and the usual closing lines follow on stderr.

On a terminal the screen is redrawn in place; when stdout is not a terminal (a pipe, a file), a plain
rendering of the table is printed once per refresh period instead, so the view can be read by programs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.live import Live

from monitor import view
from monitor.live import Session, tally_text
from monitor.subscriber import Subscriber

HEADER_LINES = 9
"""Lines the screen needs besides the device rows (title, header, borders, findings, status)."""


class Watch:
    def __init__(self, session: Session, path: Path, *, rows: int | None = None, refresh: float = 0.25,
                 duration: float | None = None, console: Console | None = None) -> None:
        self.session = session
        self.duration = duration
        self.path = path
        self.rows = rows
        self.refresh = refresh
        self.console = console or Console()
        self.subscribed = threading.Event()
        self.status = "connecting..."

    def _limit(self) -> int:
        if self.rows is not None:
            return self.rows
        return max(1, self.console.size.height - HEADER_LINES - 5)

    def screen(self) -> view.Group:
        limit = self._limit()
        shown, total, recent = self.session.read(lambda devices, found: (*view.rows(devices, limit), list(found)))
        tally = self.session.tally()
        status = f"{self.status} | recording {self.path} ({self.session.writer.count} messages) | " \
                 f"findings: {tally_text(tally)} | Ctrl-C to stop"
        return view.render(shown, total, recent, title=f"picostate watch: {total} device(s)", status=status,
                           recent_lines=5)

    def run(self, listen: Callable[[Callable[[], None], Callable[[Subscriber], str]], int]) -> int:
        """Run `listen(on_subscribed, wait)` with the screen kept up to date until it returns."""

        def on_subscribed() -> None:
            self.status = "subscribed"
            self.subscribed.set()

        def wait(sub: Subscriber) -> str:
            result: dict[str, object] = {}

            def work() -> None:
                try:
                    result["ended"] = sub.run(self.duration, on_subscribed=on_subscribed)
                except Exception as exc:  # noqa: BLE001 (handed back to the caller's thread below)
                    result["error"] = exc
                    sub.stop()

            worker = threading.Thread(target=work, name="watch-subscriber", daemon=True)
            worker.start()
            if self.console.is_terminal:
                with Live(self.screen(), console=self.console, refresh_per_second=max(1.0, 1 / self.refresh),
                          screen=False, transient=False) as live:
                    while worker.is_alive():
                        worker.join(self.refresh)
                        live.update(self.screen())
            else:
                while worker.is_alive():
                    worker.join(self.refresh)
                    self.console.print(self.screen())
                    self.console.print("")
            worker.join()
            if "error" in result:
                raise result["error"]  # type: ignore[misc]
            return str(result.get("ended", ""))

        return listen(on_subscribed, wait)
