"""The compose stack's tests run in the `tests` container of docker-compose.yml, against the `broker`
(Mosquitto), `node` (the firmware on the virtual board) and `monitor` (recording) containers, which are
healthy before these start. `make test-docker` runs them; `make test` leaves this folder out
(pyproject.toml's addopts), since they need the stack.

docker-compose.yml tells them where everything is, in the environment:
  PICO_BROKER     the broker's TLS port, HOST:PORT          (broker:8883)
  PICO_TLS_CA     the stack's CA (PEM), which signed the broker's certificate
  PICO_PASSWORDS  a folder with each user's password in a file named after it (the `secrets` volume)
  PICO_USER       the tests' own user (a monitor)
  PICO_OTHER_NODE a second node's user, which the security tests play
  PICO_HASS_USER  a Home Assistant user (the security tests' marker on homeassistant/status)
  PICO_DEVICE     the node's device id (and its user name)
  PICO_BOARD      the node's board directory, a volume shared with the node container
  PICO_RECORDING  the monitor's recording, on a volume mounted read-only here
"""

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from sim.pins import Board
from tests.helpers import Recording

NEEDED = ("PICO_BROKER", "PICO_TLS_CA", "PICO_PASSWORDS", "PICO_USER", "PICO_OTHER_NODE", "PICO_HASS_USER",
          "PICO_DEVICE", "PICO_BOARD", "PICO_RECORDING")


@dataclass
class Stack:
    broker: str
    device: str
    board: Board
    recording: Recording
    tls_ca: Path
    user: str          # the tests' monitor user
    other_node: str    # a node user that is not `device`
    hass: str          # a Home Assistant user
    passwords: Path

    @property
    def host(self):
        return self.broker.rpartition(":")[0]

    @property
    def port(self):
        return int(self.broker.rpartition(":")[2])

    def password(self, user):
        """`user`'s password, from the secrets volume (never from a command line)."""
        return (self.passwords / user).read_text().strip()


@pytest.fixture(scope="session")
def stack():
    missing = [name for name in NEEDED if not os.environ.get(name)]
    if missing:
        pytest.fail("tests/compose runs inside the compose stack (make test-docker); not set: "
                    + ", ".join(missing))
    env = os.environ
    return Stack(broker=env["PICO_BROKER"], device=env["PICO_DEVICE"], board=Board(env["PICO_BOARD"]),
                 recording=Recording(Path(env["PICO_RECORDING"])), tls_ca=Path(env["PICO_TLS_CA"]),
                 user=env["PICO_USER"], other_node=env["PICO_OTHER_NODE"],
                 hass=env["PICO_HASS_USER"], passwords=Path(env["PICO_PASSWORDS"]))
