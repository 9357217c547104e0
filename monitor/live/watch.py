"""`python -m monitor watch` (in the `record`/`watch` process): the live table (`monitor.live.view`) redrawn in place with rich's `Live`, between
the session's looks at what the receiver recorded. Ctrl-C (or SIGTERM, or `--for`, or `q`) ends it
cleanly: the last screen stays, and the usual closing lines follow on stderr.

The status line says where the broker connection stands: `subscribed`, or `broker gone 12 s,
reconnecting` while the receiver is without it (then every device's `online` is `unknown`: the view).

On a terminal (stdin), keys act on the selected device (`monitor.live.keys` reads them,
`monitor.live.commands` sends): up/down or k/j select, `l` cycles the LED policy, `m` toggles the mode,
`g` asks for a snapshot, `q` quits; the selected device's last command and its ack are shown under the
table. With no device selected the command keys send nothing. Stdin not a terminal: no keys.

On a terminal the screen is redrawn in place; when stdout is not a terminal (a pipe, a file), a plain
rendering of the table is printed once per refresh period instead, so the view can be read by programs.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from rich.console import Console
from rich.live import Live
from rich.text import Text

from monitor.live import view
from monitor.live.commands import Commands
from monitor.live.keys import Keys
from monitor.live.session import Session, tally_text
from monitor.text import cut, printable

HEADER_LINES = 9
"""Lines the screen needs besides the device rows (title, header, borders, findings, status)."""
KEYS_HELP = "keys: up/down (j/k) select, l LED, m mode, g snapshot, q quit"


class Watch:
    def __init__(self, *, rows: int | None = None, refresh: float = 0.25, console: Console | None = None,
                 commands: Commands | None = None, keys: Keys | None = None) -> None:
        self.rows = rows
        self.refresh = refresh
        self.console = console or Console()
        self.status = "connecting..."
        self.commands = commands
        self.keys = keys
        self.selected: str | None = None
        self.said = ""
        """What the last key had to say (a refusal), until the next key or a device is selected."""
        self._shown: list[view.Row] = []

    def on_subscribed(self) -> None:
        self.status = "subscribed"

    def _limit(self) -> int:
        if self.rows is not None:
            return self.rows
        return max(1, self.console.size.height - HEADER_LINES - 5 - (1 if self._keyed() else 0))

    def _keyed(self) -> bool:
        return self.keys is not None and self.keys.active and self.commands is not None

    def connection(self, session: Session, now: float | None = None) -> str:
        """The status line's first words: the broker connection."""
        return session.gone_text(now) or self.status

    def screen(self, session: Session) -> view.Group:
        limit = self._limit()
        shown, total, recent = session.read(lambda devices, found: (*view.rows(devices, limit), list(found)))
        self._shown = shown
        if self.selected is None and shown:
            self.selected = shown[0].device
            self.said = ""  # (a "no device selected" said before is over)
        stop = "q or Ctrl-C to stop" if self._keyed() else "Ctrl-C to stop"
        status = f"{self.connection(session)} | recording {session.path} ({session.count} messages) | " \
                 f"findings: {tally_text(session.tally())} | {stop}"
        return view.render(shown, total, recent, title=f"picostate watch: {total} device(s)", status=status,
                           recent_lines=5, gone=session.broker_gone, unknown_before=session.unknown_before,
                           selected=self.selected if self._keyed() else None, note=self._note())

    def _note(self) -> Text | None:
        """The line under the table: the selected device's last command and its ack, and the keys."""
        if not self._keyed():
            return None
        assert self.commands is not None
        if self.said:
            text = self.said
        elif self.selected is None:
            text = "no device selected"
        else:
            last = self.commands.last.get(self.selected)
            text = f"{cut(printable(self.selected), view.DEVICE_WIDTH)}: " + (last.text() if last else "no command yet")
        line = Text(f"> {printable(text)}", style="bold")
        line.truncate(200)
        line.append(f"   {KEYS_HELP}", style="dim")
        return line

    def on_key(self, key: str, session: Session) -> None:
        """One key typed at the terminal."""
        self.said = ""
        if key == "q":
            session.stop()
            return
        if key in ("up", "k", "down", "j"):
            names = [r.device for r in self._shown]
            if not names:
                return
            step = -1 if key in ("up", "k") else 1
            at = names.index(self.selected) if self.selected in names else (-1 if step > 0 else len(names))
            self.selected = names[max(0, min(len(names) - 1, at + step))]
            return
        if self.commands is None:
            return
        row = next((r for r in self._shown if r.device == self.selected), None)
        device = self.selected if row is not None else None  # (a device no longer in the table: none)
        said = self.commands.key(device, key, row.led if row else None, row.mode if row else None)
        self.said = said or ""

    def run(self, session: Session, listen: Callable[[Callable[[], None]], None]) -> None:
        """Run `listen(turn)`, redrawing the screen from `turn()` once per refresh period, and at the end."""
        keys = self.keys if self.keys is not None and self.commands is not None else contextlib.nullcontext()
        with keys:  # (the terminal's settings back however it ends)
            if self.console.is_terminal:
                with Live(self.screen(session), console=self.console, auto_refresh=False, screen=False,
                          transient=False) as live:
                    self._every_refresh(session, listen, lambda: live.update(self.screen(session), refresh=True))
            else:

                def show() -> None:
                    self.console.print(self.screen(session))
                    self.console.print("")

                self._every_refresh(session, listen, show)

    def _every_refresh(self, session: Session, listen: Callable[[Callable[[], None]], None],
                       draw: Callable[[], None]) -> None:
        due = 0.0

        def turn() -> None:
            nonlocal due
            now = time.monotonic()
            if self.keys is not None and self.commands is not None:
                typed = self.keys.read()
                for key in typed:
                    self.on_key(key, session)
                if typed:
                    due = 0.0  # show what a key did at once
            if now >= due:
                due = now + self.refresh
                draw()

        try:
            listen(turn)
        finally:
            draw()
