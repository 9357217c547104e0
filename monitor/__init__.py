"""The monitor: records what Pico nodes publish over MQTT, checks recordings, and sends commands.

It owns nothing at import time: every module is imported by what needs it (only `monitor.mqtt` imports
paho). Run it as `python -m monitor record|watch|check|send|fleet|devices|forget ...`; see docs/monitor.md.
"""

from monitor.errors import MonitorError

__all__ = ["MonitorError"]
