"""broker_tls.set_clock on a board whose clock was never set (the Pico's starts at 2021-01-01): NTP is
asked, and when it cannot answer the node says so in one line. CPython only: the board's clock and
ntptime are stood in for (a unit test of this one module), and its log line is printed as `tag: msg`."""

import sys
import time
import types

import broker_tls


class Board:
    def __init__(self, year):
        self.year = year

    def gmtime(self, *args):
        return (self.year, 11, 30, 16, 20, 0, 0, 334)


def with_ntp(monkeypatch, board, settime):
    monkeypatch.setattr(broker_tls, "time", board)
    said = types.ModuleType("log")      # the node's log.py needs MicroPython's clock
    said.log = lambda tag, msg: print("%s: %s" % (tag, msg))
    monkeypatch.setitem(sys.modules, "log", said)
    ntp = types.ModuleType("ntptime")
    ntp.host = "pool.ntp.org"
    ntp.settime = settime
    monkeypatch.setitem(sys.modules, "ntptime", ntp)
    return ntp


def test_a_set_clock_asks_no_one(monkeypatch, capsys):
    asked = []
    with_ntp(monkeypatch, Board(2026), lambda: asked.append(1))
    assert broker_tls.set_clock("ntp.lan") is True
    assert asked == [] and capsys.readouterr().out == ""


def test_an_unset_clock_is_set_from_the_configured_server(monkeypatch, capsys):
    board = Board(2021)
    ntp = with_ntp(monkeypatch, board, lambda: setattr(board, "year", 2026))
    assert broker_tls.set_clock("ntp.lan") is True
    assert ntp.host == "ntp.lan"
    assert "clock: set from NTP: 2026-11-30 16:20:00 UTC" in capsys.readouterr().out


def test_no_answer_from_ntp_is_one_clear_line(monkeypatch, capsys):
    def settime():
        raise OSError(110)

    with_ntp(monkeypatch, Board(2021), settime)
    assert broker_tls.set_clock("ntp.lan") is False
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "clock: cannot set the time from NTP (OSError: 110)" in out[0], out
    assert "not yet valid" in out[0]


def test_the_real_clock_here_counts_as_set():
    assert time.gmtime()[0] >= broker_tls.CLOCK_VALID_FROM and broker_tls.clock_set()
