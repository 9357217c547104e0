# A stand-in for node/config.py: defaults, then the run's overrides.
BROKER_HOST = "mqtt.local"
BROKER_PORT = 1883
DEVICE_ID = None
HEARTBEAT_S = 5
NAME = "default"

try:
    from config_local import *  # noqa: F401,F403
except ImportError:
    pass
