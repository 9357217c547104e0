# Run by test_discovery_micropython.py inside MicroPython (MICROPYPATH=node/lib:tests/ha): builds the
# discovery messages for each case of CASES and prints one line per message: case, topic and payload in hex.
from binascii import hexlify

import discovery
from discovery_cases import CASES


class Cfg:
    pass


for n, (device, mode, prefix, topic_prefix, fw) in enumerate(CASES):
    cfg = Cfg()
    cfg.HA_DISCOVERY, cfg.HA_PREFIX, cfg.TOPIC_PREFIX, cfg.FIRMWARE = mode, prefix, topic_prefix, fw
    for topic, payload in discovery.messages(cfg, device):
        print(n, hexlify(topic).decode(), hexlify(payload).decode())
    print(n, "status", hexlify(discovery.status_topic(cfg)).decode())
