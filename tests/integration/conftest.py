"""Real brokers for the integration tests: the embedded amqtt broker and, by the same fixture,
Mosquitto. Each test gets a fresh broker on a free loopback port, stopped afterwards
(tests/outage_harness.py's BrokerProcess, which the outage tests also kill and restart)."""

import pytest

from tests.outage_harness import BrokerProcess


@pytest.fixture(params=["amqtt", "mosquitto"])
def broker(request, tmp_path):
    with BrokerProcess(request.param, tmp_path) as b:
        yield b

