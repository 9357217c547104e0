"""Fixtures for the monitor's tests: a real amqtt broker for the whole session."""

from __future__ import annotations

import pytest

from .mon_helpers import AmqttBroker


@pytest.fixture(scope="session")
def broker():
    """The address (`127.0.0.1:PORT`) of an amqtt 0.12 broker running for the test session."""
    server = AmqttBroker()
    try:
        yield server.address
    finally:
        server.stop()
