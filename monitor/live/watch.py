"""`python -m monitor watch` (in the `record`/`watch` process): the live table (`monitor.live.view`) redrawn in place with rich's `Live`, between
the session's looks at what the receiver recorded. Ctrl-C (or SIGTERM, or `--for`) ends it cleanly: the
last screen stays, and the usual closing lines follow on stderr.

On a terminal the screen is redrawn in place; when stdout is not a terminal (a pipe, a file), a plain
rendering of the table is printed once per refresh period instead, so the view can be read by programs.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console
from rich.live import Live

from monitor.live import view
from monitor.live.session import Session, tally_text

HEADER_LINES = 9
"""Lines the screen needs besides the device rows (title, header, borders, findings, status)."""


class Watch:
    def __init__(self, *, rows: int | None = None, refresh: float = 0.25, console: Console | None = None) -> None:
        self.rows = rows
        self.refresh = refresh
        self.console = console or Console()
        self.status = "connecting..."

    def on_subscribed(self) -> None:
        self.status = "subscribed"

    def _limit(self) -> int:
        if self.rows is not None:
            return self.rows
        return max(1, self.console.size.height - HEADER_LINES - 5)

    def screen(self, session: Session) -> view.Group:
        limit = self._limit()
        shown, total, recent = session.read(lambda devices, found: (*view.rows(devices, limit), list(found)))
        status = f"{self.status} | recording {session.path} ({session.count} messages) | " \
                 f"findings: {tally_text(session.tally())} | Ctrl-C to stop"
        return view.render(shown, total, recent, title=f"picostate watch: {total} device(s)", status=status,
                           recent_lines=5)

    def run(self, session: Session, listen: Callable[[Callable[[], None]], None]) -> None:
        """Run `listen(turn)`, redrawing the screen from `turn()` once per refresh period, and at the end."""
        if self.console.is_terminal:
            with Live(self.screen(session), console=self.console, auto_refresh=False, screen=False,
                      transient=False) as live:
                self._every_refresh(listen, lambda: live.update(self.screen(session), refresh=True))
        else:

            def show() -> None:
                self.console.print(self.screen(session))
                self.console.print("")

            self._every_refresh(listen, show)

    def _every_refresh(self, listen: Callable[[Callable[[], None]], None], draw: Callable[[], None]) -> None:
        due = 0.0

        def turn() -> None:
            nonlocal due
            now = time.monotonic()
            if now >= due:
                due = now + self.refresh
                draw()

        try:
            listen(turn)
        finally:
            draw()
