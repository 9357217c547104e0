"""Entry point of `python -m monitor`: hands the command line to `monitor.cli`."""

import sys

from monitor.cli import main

sys.exit(main())
