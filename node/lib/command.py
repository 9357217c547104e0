"""Command validation: raw MQTT payload in, (command id, fields) out, or a CommandError saying why.

Pure: no I/O. The checks run in the order docs/protocol.md lists them, so the first problem found is
the one reported, the same on CPython and MicroPython.
"""

import json

import strictjson
from rules import LED_POLICIES, MODES

MAX_ID_CHARS = 64
_KEYS = ("id", "led", "mode", "get")


class CommandError(Exception):
    """A rejected command: `reason` for the ack, `cmd_id` when it could be read (else None)."""

    def __init__(self, reason, cmd_id=None):
        super().__init__(reason)
        self.reason = reason
        self.cmd_id = cmd_id


def parse(raw, max_bytes=256):
    """`raw` is the payload, or its size alone when the link did not read it (too large to)."""
    size = raw if isinstance(raw, int) else len(raw)
    if size > max_bytes:
        raise CommandError("too large: %d bytes (at most %d)" % (size, max_bytes))
    try:
        if isinstance(raw, str):
            raw = raw.encode()
        # MicroPython's json accepts more than JSON (see strictjson.py): held to strict JSON first.
        doc = json.loads(strictjson.check(raw).decode("utf-8"))
    except (ValueError, UnicodeError):
        raise CommandError("not JSON")
    if not isinstance(doc, dict):
        raise CommandError("not a JSON object")
    cmd_id = doc.get("id")
    if not isinstance(cmd_id, str) or not 1 <= len(cmd_id) <= MAX_ID_CHARS:
        raise CommandError("id must be a string of 1 to %d characters" % MAX_ID_CHARS)
    unknown = sorted(k for k in doc if k not in _KEYS)
    if unknown:
        raise CommandError("unknown key: %s" % unknown[0], cmd_id)
    fields = {}
    if "led" in doc:
        if not isinstance(doc["led"], str) or doc["led"] not in LED_POLICIES:
            raise CommandError("led must be one of: " + ", ".join(LED_POLICIES), cmd_id)
        fields["led"] = doc["led"]
    if "mode" in doc:
        if not isinstance(doc["mode"], str) or doc["mode"] not in MODES:
            raise CommandError("mode must be one of: " + ", ".join(MODES), cmd_id)
        fields["mode"] = doc["mode"]
    if "get" in doc:
        if doc["get"] is not True:
            raise CommandError("get must be true", cmd_id)
        fields["get"] = True
    if not fields:
        raise CommandError("nothing to do: give led, mode or get", cmd_id)
    return cmd_id, fields
