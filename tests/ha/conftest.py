"""tests/ha: Home Assistant discovery. node/lib's modules are imported by their board names (discovery,
command), as on the node."""

import sys
from pathlib import Path

NODE_LIB = Path(__file__).resolve().parents[2] / "node" / "lib"
if str(NODE_LIB) not in sys.path:
    sys.path.insert(0, str(NODE_LIB))
