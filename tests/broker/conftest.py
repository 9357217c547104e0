"""A fresh secure broker (amqtt, then Mosquitto) per test module, with its own users and certificates."""

from tests.broker.secure import broker, setup  # noqa: F401  (fixtures)
