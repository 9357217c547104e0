"""What a line of the node's console log says about its start, for the deploy's wait: a pure
reading of the lines node/lib/app.py, link.py, wifi.py and logger.py print.

classify(line) returns None for a line that says nothing here, else (kind, fields):
- ('boot',   {'id', 'boot', 'fw', 'heap'})     app: device X, boot B, firmware F, free heap N bytes
- ('online', {'id', 'broker'})                  mqtt: connected to H:P as X, session S
- ('heap',   {'heap', 'mqtt'})                  state: ... mqtt=up ... free=N (every second: the
                                                 way to know a board is online when its first
                                                 lines were printed before the port was opened)
- ('wifi_failed', {'reason'})                   wifi: <reason>; retrying in N ms
- ('broker_failed', {'broker', 'reason'})      mqtt: connect to H:P failed: <reason>; retrying ...
- ('stopped', {'reason'})                       main.py ended: the REPL's banner after it
- ('error', {'reason'})                         an exception's last line (kept as the reason)
"""

import re

_LOG = r"^\[\s*\d+\.\d+\] "
_PATTERNS = [
    ("boot", re.compile(_LOG + r"app: device (?P<id>\S+), boot (?P<boot>[0-9a-f]+), firmware "
                                r"(?P<fw>\S+), free heap (?P<heap>\d+) bytes")),
    ("online", re.compile(_LOG + r"mqtt: connected to (?P<broker>\S+) as (?P<id>\S+), session \d+")),
    ("heap", re.compile(_LOG + r"state: .* mqtt=(?P<mqtt>\w+) .* free=(?P<heap>\d+)")),
    ("wifi_failed", re.compile(_LOG + r"wifi: (?P<reason>.+); retrying in \d+ ms")),
    ("broker_failed", re.compile(_LOG + r"mqtt: connect to (?P<broker>\S+) failed: "
                                        r"(?P<reason>.+); retrying in \d+ ms")),
    ("stopped", re.compile(r"^Type \"help\(\)\" for more information|^MicroPython v\S+ on .*; ")),
    ("error", re.compile(r"^(?P<reason>[A-Za-z_.]*(Error|Exception|Interrupt)\b.*)$")),
]


def classify(line):
    line = line.strip()
    for kind, pattern in _PATTERNS:
        found = pattern.search(line)
        if found:
            fields = found.groupdict()
            if "heap" in fields:
                fields["heap"] = int(fields["heap"])
            if kind == "stopped":
                fields = {"reason": "main.py ended"}
            return kind, fields
    return None
