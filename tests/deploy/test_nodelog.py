"""Reading the node's console lines (formats from node/lib/app.py, link.py, wifi.py, logger.py)."""

import pytest

from deploy.nodelog import classify


@pytest.mark.parametrize("line, kind, fields", [
    ("[    0.012] app: device desk, boot 9f1c2a7b, firmware 0.1.0, free heap 101232 bytes",
     "boot", {"id": "desk", "boot": "9f1c2a7b", "fw": "0.1.0", "heap": 101232}),
    ("[    1.204] mqtt: connected to 127.0.0.1:1883 as desk, session 1",
     "online", {"broker": "127.0.0.1:1883", "id": "desk"}),
    ("[    2.001] state: ver=0 led=auto lit=0 mode=slow a=0 b=0 presses=0/0 temp=None mqtt=up "
     "sess=1 seq=3 outbox=0 dropped=0 free=98304", "heap", {"heap": 98304, "mqtt": "up"}),
    ("[    0.003] state: ver=0 led=auto lit=1 mode=slow a=0 b=0 presses=0/0 temp=25.0 mqtt=down "
     "sess=0 seq=0 outbox=0 dropped=0 free=1955168", "heap", {"heap": 1955168, "mqtt": "down"}),
    ("[   20.200] wifi: wrong password (status -3); retrying in 512 ms",
     "wifi_failed", {"reason": "wrong password (status -3)"}),
    ("[   21.000] wifi: no connection after 20 s (status 1: connecting); retrying in 1000 ms",
     "wifi_failed", {"reason": "no connection after 20 s (status 1: connecting)"}),
    ("[    0.500] mqtt: connect to 127.0.0.1:1 failed: connection refused; retrying in 537 ms",
     "broker_failed", {"broker": "127.0.0.1:1", "reason": "connection refused"}),
    ("Type \"help()\" for more information.", "stopped", {"reason": "main.py ended"}),
    ("ImportError: no module named 'umqtt'", "error", {"reason": "ImportError: no module named 'umqtt'"}),
    ("[  0.5] mqtt: connected to h:1 as x, session 2\r", "online", {"broker": "h:1", "id": "x"}),
])
def test_lines_that_matter(line, kind, fields):
    assert classify(line) == (kind, fields)


@pytest.mark.parametrize("line", [
    "", ">>> ", "MPY: soft reboot", "[    3.000] wifi: connected to home, address 10.0.0.7",
    "[    3.100] app: free heap with Wi-Fi up: 90000 bytes",
    "[    5.000] mqtt: link down: connection closed; 0 waiting in the outbox; reconnecting in 500 ms",
    "  File \"main.py\", line 4, in <module>",
])
def test_lines_that_do_not(line):
    assert classify(line) is None
