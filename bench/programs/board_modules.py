# What the virtual board's own Python modules hold on the heap once imported (machine, time, select,
# network: C modules on a Pico, Python on the virtual board), so that the node's figures can be read
# without them. Run on the virtual board: python -m sim run board_modules.py
# Prints one line: "board: {json}".
import gc
import json

gc.collect()
base = gc.mem_alloc()
import machine  # noqa: E402,F401
import network  # noqa: E402,F401
import select  # noqa: E402,F401
import time  # noqa: E402,F401

gc.collect()
print("board: " + json.dumps({"held": gc.mem_alloc() - base}))
