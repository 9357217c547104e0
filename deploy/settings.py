"""What the board's `config_local.py` and `secrets.py` say, from the command's flags and the
passwords. Pure text builders, plus where the passwords come from: an environment variable or a
prompt that does not echo, never a flag (a flag shows in `ps` and in the shell's history).

node/config.py star-imports config_local at its end; config_local star-imports secrets, so the
passwords live in one file that nothing else prints.
"""

import getpass
import os
import re
import sys

from sim.nodeconfig import PASSWORD_ENV as MQTT_PASSWORD_ENV
from sim.nodeconfig import WIFI_PASSWORD_ENV
from sim.nodeconfig import parse_setting as _parse_setting

DEFAULT_BROKER_PORT = 1883
DEFAULT_TLS_PORT = 8883
# Characters that would change what a topic means (pico/<id>/...), or break a client id.
_ID_FORBIDDEN = set("/+#") | {chr(c) for c in range(33)}


def parse_broker(text, default_port=DEFAULT_BROKER_PORT):
    """(host, port) from 'HOST' or 'HOST:PORT' ('[::1]:1883' for IPv6). Raises ValueError."""
    found = re.fullmatch(r"\[([^\]\s]+)\](?::(\d{1,5}))?|([^:\[\]\s]+)(?::(\d{1,5}))?", text.strip())
    port = found and (found.group(2) or found.group(4))
    if not found or (port and not 0 < int(port) < 65536):
        raise ValueError(f"--broker takes HOST or HOST:PORT, e.g. 192.168.1.20:1883, not {text!r}")
    return found.group(1) or found.group(3), int(port) if port else default_port


def check_device_id(text):
    """The id as given, if it can be a topic level and a client id. Raises ValueError."""
    if not text or len(text) > 64 or any(c in _ID_FORBIDDEN for c in text):
        raise ValueError(f"--id takes a name without spaces, '/', '+' or '#' (at most 64 "
                         f"characters), not {text!r}")
    return text


def check_country(text):
    if len(text) != 2 or not text.isalpha():
        raise ValueError(f"--country takes a two-letter country code such as GB or DE, not {text!r}")
    return text.upper()


def is_loopback(host):
    return host == "localhost" or host.startswith("127.") or host in ("::1", "0.0.0.0")


def parse_setting(text):
    """(KEY, value) from --set KEY=VALUE, as `python -m sim node --set` reads it: never a password,
    which would then show in `ps` and the shell's history. Raises ValueError."""
    return _parse_setting(text)


def config_local_text(broker_host, broker_port, wifi_ssid=None, device_id=None, user=None,
                      country=None, extra=(), with_secrets=False, ca=None):
    lines = ["# Written by python -m deploy; overrides config.py on this board.",
             f"BROKER_HOST = {broker_host!r}",
             f"BROKER_PORT = {broker_port!r}"]
    if ca is not None:
        lines.append(f"BROKER_CA = {ca!r}  # beside config.py: TLS, the broker's certificate verified")
    if wifi_ssid is not None:
        lines.append(f"WIFI_SSID = {wifi_ssid!r}")
    if country is not None:
        lines.append(f"WIFI_COUNTRY = {country!r}")
    if user is not None:
        lines.append(f"BROKER_USER = {user!r}")
    if device_id is not None:
        lines.append(f"DEVICE_ID = {device_id!r}")
    for key, value in extra:
        lines.append(f"{key} = {value!r}")
    if with_secrets:
        lines.append("from secrets import *  # noqa: F401,F403  (the passwords)")
    return "\n".join(lines) + "\n"


def secrets_text(wifi_password=None, broker_password=None):
    """The text of secrets.py, or None when there is no password to keep."""
    lines = []
    if wifi_password is not None:
        lines.append(f"WIFI_PASSWORD = {wifi_password!r}")
    if broker_password is not None:
        lines.append(f"BROKER_PASSWORD = {broker_password!r}")
    if not lines:
        return None
    return "# Written by python -m deploy. Passwords: keep this file off shared places.\n" + "\n".join(lines) + "\n"


def password(env_name, what, environ=None, prompt=getpass.getpass, interactive=None):
    """A password from $env_name, else asked for without echo. '' (an open network, a broker
    without one) means none: None. Raises ValueError when it cannot be asked for."""
    environ = os.environ if environ is None else environ
    if env_name in environ:
        return environ[env_name] or None
    if interactive is None:
        interactive = sys.stdin.isatty()
    if not interactive:
        raise ValueError(f"no {what} password: set {env_name} (there is no terminal to ask on)")
    return prompt(f"{what} password (empty for none): ") or None
