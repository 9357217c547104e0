# Reads hex-encoded command payloads, one per line, from the file named by argv[1]; prints, per payload,
# the node's reading as one JSON line: [id, fields, error]. Run by tests/integration/test_command_agreement.py.
import json
import sys
from binascii import unhexlify

from command import CommandError, parse

with open(sys.argv[1]) as f:
    for line in f:
        raw = unhexlify(line.strip())
        try:
            cmd_id, fields = parse(raw, int(sys.argv[2]))
            print(json.dumps([cmd_id, fields, None]))
        except CommandError as e:
            print(json.dumps([e.cmd_id, None, e.reason]))
