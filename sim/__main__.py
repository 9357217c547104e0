"""`python -m sim`: the virtual board's command line (see sim.cli)."""

import sys

from sim.cli import main

sys.exit(main())
