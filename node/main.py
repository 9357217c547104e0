"""Entry point on the board: MicroPython runs this file at boot. Everything is built in lib/app.py."""

import config
from app import run

run(config)
