"""What a virtual board prints, read on its way to the serial port (pure: no I/O).

ReplStream notes which REPL mode the board's REPL last announced (`raw REPL; CTRL-B to exit`, or
the friendly banner's `Type "help()"` line), which the console needs to restart the interpreter
in that mode after a soft reset. And when it restarts it in the raw REPL, which the unix port can
only reach from its friendly REPL, ReplStream hides the friendly banner printed on the way: from
RAW_MARK (printed by sim/board/_simboot.py once boot.py has run) up to the raw REPL's banner, as
the rp2 port prints no such banner.
"""

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
FRIENDLY_BANNER = b'Type "help()" for more information.\r\n'
RAW_MARK = b"\x00sim:raw-repl\x00"
HIDE_MAX = 1024  # more than a friendly banner: not what was expected, so shown after all


class ReplStream:
    def __init__(self):
        self.mode = "friendly"
        self._tail = b""  # the end of what was shown, for a banner cut between two reads
        self._hiding = None  # None, or 'mark'/'banner' while a raw restart's banner is hidden
        self._held = b""

    def restart(self):
        """A new interpreter starts, in `mode`. Returns what was held back from the previous one
        (the start of a mark that never came whole), to show."""
        held, self._held, self._tail = self._held, b"", b""
        self._hiding = "mark" if self.mode == "raw" else None
        return held

    def feed(self, data):
        """The part of the board's output `data` to show on the port."""
        if self._hiding is not None:
            data = self._hide(data)
        seen = self._tail + data
        raw, friendly = seen.rfind(RAW_BANNER), seen.rfind(FRIENDLY_BANNER)
        if raw >= 0 or friendly >= 0:
            self.mode = "raw" if raw > friendly else "friendly"
        self._tail = seen[-len(FRIENDLY_BANNER):]
        return data

    def _hide(self, data):
        held, shown = self._held + data, b""
        if self._hiding == "mark":
            at = held.find(RAW_MARK)
            if at < 0:
                keep = _prefix_at_end(held, RAW_MARK)  # the mark may be cut between two reads
                self._held = held[len(held) - keep:]
                return held[:len(held) - keep]
            self._hiding, shown, held = "banner", held[:at], held[at + len(RAW_MARK):]
        at = held.find(RAW_BANNER)
        if at >= 0 or len(held) > HIDE_MAX:
            self._hiding, self._held = None, b""
            return shown + held[max(at, 0):]
        self._held = held
        return shown


def _prefix_at_end(data, mark):
    """The length of the longest end of `data` that is a start of `mark`."""
    for n in range(min(len(mark) - 1, len(data)), 0, -1):
        if data.endswith(mark[:n]):
            return n
    return 0
