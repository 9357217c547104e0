"""Fixtures for the monitor's tests: a real amqtt broker for each test that asks for one.

One per test, not per session: the tests publish retained messages (a node's status and state), which a
broker replays to every later subscriber, so a shared broker would hand one test's devices to the next
recorder (its line counts, its device table). A start costs about 0.3 s."""

from __future__ import annotations

import pytest

from .mon_helpers import AmqttBroker


@pytest.fixture
def broker():
    """The address (`127.0.0.1:PORT`) of an amqtt 0.12 broker of this test's own."""
    server = AmqttBroker()
    try:
        yield server.address
    finally:
        server.stop()
