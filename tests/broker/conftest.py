"""A fresh secure broker (amqtt, then Mosquitto) per test, with the module's users and certificates."""

from tests.broker.secure import broker, setup  # noqa: F401  (fixtures)
