"""The compose stack's tests run in the `tests` container of docker-compose.yml, against the `broker`
(Mosquitto), `node` (the firmware on the virtual board) and `monitor` (recording) containers, which are
healthy before these start. `make test-docker` runs them; `make test` leaves this folder out
(pyproject.toml's addopts), since they need the stack.

docker-compose.yml tells them where everything is, in the environment:
  PICO_BROKER     the broker, HOST:PORT                     (broker:1883)
  PICO_DEVICE     the node's device id
  PICO_BOARD      the node's board directory, a volume shared with the node container
  PICO_RECORDING  the monitor's recording, on a volume mounted read-only here
"""

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from sim.pins import Board
from tests.helpers import Recording

NEEDED = ("PICO_BROKER", "PICO_DEVICE", "PICO_BOARD", "PICO_RECORDING")


@dataclass
class Stack:
    broker: str
    device: str
    board: Board
    recording: Recording


@pytest.fixture(scope="session")
def stack():
    missing = [name for name in NEEDED if not os.environ.get(name)]
    if missing:
        pytest.fail("tests/compose runs inside the compose stack (make test-docker); not set: "
                    + ", ".join(missing))
    return Stack(broker=os.environ["PICO_BROKER"], device=os.environ["PICO_DEVICE"],
                 board=Board(os.environ["PICO_BOARD"]), recording=Recording(Path(os.environ["PICO_RECORDING"])))
