"""The monitor's one exception family: everything the monitor raises on purpose is a `MonitorError`."""


class MonitorError(Exception):
    """Base of every error the monitor raises on purpose; its message is meant for a human."""


class UsageError(MonitorError):
    """A bad command-line value (a wrong flag, an unparsable `HOST:PORT`, a missing file)."""


class BrokerError(MonitorError):
    """The broker could not be reached, refused us, refused a subscription, or the connection was lost."""


class Refused(BrokerError):
    """The broker answered, and said no: a bad password, not authorized, an untrusted TLS certificate or one
    for another host, TLS and plain MQTT mixed up."""


class RecordingError(MonitorError):
    """A recording could not be opened, read or written."""


class AckTimeout(MonitorError):
    """No acknowledgement for a command arrived in time."""
