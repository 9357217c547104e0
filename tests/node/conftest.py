"""The node's pure modules live in node/lib and are imported by their board names (rules, command...)."""

import sys
from pathlib import Path

NODE_LIB = Path(__file__).resolve().parents[2] / "node" / "lib"
if str(NODE_LIB) not in sys.path:
    sys.path.insert(0, str(NODE_LIB))
