# A stand-in for node/main.py: prints the configuration it ends up with.
import config

print("config", repr((config.BROKER_HOST, config.BROKER_PORT, config.DEVICE_ID,
                      config.HEARTBEAT_S, config.NAME)))
