"""Node configuration: pins, identity, broker, timings.

Change values here, or better, put overrides in `config_local.py` next to this file (not committed):
the virtual board writes one to set the broker and device id without editing this file. Secrets
(Wi-Fi and broker passwords, the broker user) go in `secrets.py` (not committed), read below.
"""

# Hardware (Pico 2 W). Buttons go to GND and use the internal pull-up: pressed reads 0.
PIN_BUTTON_A = 14
PIN_BUTTON_B = 13
PIN_LED = 15            # through 220 ohm to GND
PIN_HEARTBEAT = "LED"   # the on-board LED, on the Wi-Fi chip
ADC_TEMP = 4            # the on-chip temperature sensor

# Identity. None: "pico-" + the hex of machine.unique_id().
DEVICE_ID = None
TOPIC_PREFIX = "pico"
FIRMWARE = "0.1.0"

# Wi-Fi. WIFI_SSID None: the network is assumed up already (the virtual board).
WIFI_SSID = None
WIFI_PASSWORD = None
WIFI_COUNTRY = "GB"
WIFI_POWER_SAVE = False        # power saving has been tied to silent drop-outs
WIFI_CONNECT_TIMEOUT_S = 20
WIFI_CHECK_MS = 1000           # how often the link is checked once up

# Broker. The user name and password belong in secrets.py (not committed): a node's user name is its
# device id (docs/security.md).
BROKER_HOST = "mqtt.local"
BROKER_PORT = None             # None: 8883 with TLS (BROKER_CA set), else 1883
BROKER_USER = None
BROKER_PASSWORD = None
BROKER_CA = None               # the CA certificate's file on the board (DER or PEM): TLS, verified
NTP_HOST = "pool.ntp.org"      # sets the board's clock before a certificate is checked
REFUSED_RETRY_MS = 30000       # a refused login or certificate is retried this often, not hammered
KEEPALIVE_S = 30               # never 0: Mosquitto 2.0.12 and newer refuse it. A dead link is
                               # noticed after at most 1 1/3 of this (pings every third).
SOCKET_TIMEOUT_S = 5           # the longest wait for a TCP connect, a CONNACK or a SUBACK
RECONNECT_MIN_MS = 500         # reconnect backoff: doubles from here up to the max, with jitter
RECONNECT_MAX_MS = 10000
MAX_IN_FLIGHT = 8              # QoS 1 messages sent and waiting for their PUBACK

# Behaviour and timings.
POLL_MS = 5                    # button sampling period
DEBOUNCE_MS = 20               # a new level must hold this long to count
SLOW_PERIOD_MS = 1000          # blink periods in auto mode
FAST_PERIOD_MS = 200
HEARTBEAT_S = 5                # a snapshot at least this often
SNAPSHOT_GAP_MS = 50           # changes closer than this share one snapshot
SENSOR_S = 2
LOG_S = 1
WDT_TIMEOUT_MS = 8000          # machine.WDT; None turns the watchdog off (RP2350 max about 16700)

# Queues, allocated once at start-up.
OUTBOX_SIZE = 256              # events and acks waiting to be published (snapshots wait apart, one at
                               # most); when full the oldest is dropped and counted. About 100 to 130
                               # bytes an event on a Pico (docs/benchmarks.md): 24 to 32 KB when full,
                               # which keeps every press of a 10-minute outage.
INBOX_SIZE = 8                 # commands waiting for the command owner; newest dropped when full
MAX_COMMAND_BYTES = 256

# Home Assistant MQTT discovery (docs/home-assistant.md): True publishes the device's discovery
# (homeassistant/device/<id>/config), False publishes none.
HA_DISCOVERY = True
HA_PREFIX = "homeassistant"

try:
    from secrets import *  # noqa: F401,F403  (BROKER_USER, BROKER_PASSWORD, WIFI_PASSWORD)
except ImportError:
    pass

try:
    from config_local import *  # noqa: F401,F403  (a board's own overrides)
except ImportError:
    pass
