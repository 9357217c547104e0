"""`python -m broker ...`: see broker/cli.py."""

import sys

from broker.cli import main

if __name__ == "__main__":
    sys.exit(main())
